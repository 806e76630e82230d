package dev.aliyuncsr.operator.certificate;

import java.util.List;

/**
 * What UpdateInstance sends to fill an instance with the AliyunCsr's CSR: the CSR's names (CN
 * first), its key algorithm as CAS names it, and the validation method.
 */
public record InstanceFill(
    String instanceId,
    String csrPem,
    List<String> domains,
    String keyAlgorithm,
    String validationMethod) {
  @Override
  public String toString() {
    return "InstanceFill[" + instanceId + ", " + domains + ", " + keyAlgorithm + "]";
  }
}
