package dev.aliyuncsr.operator.upload.simulation;

import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyValidator;
import dev.aliyuncsr.operator.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CSRs the simulated users put in their Secrets: a few EC keys, each with two CSRs (the second
 * adds a SAN, as regenerating a CSR from the same key does). Generated once per test run.
 */
final class SimPool {
  /** One CSR and the key it was made with. */
  record Entry(int keyIndex, CsrFacts csr, PrivateKeyFacts key) {}

  static final int KEYS = 8;
  static final List<Entry> ENTRIES = new ArrayList<>();
  static final Map<String, String> PEMS_BY_SHA = new LinkedHashMap<>();

  static {
    for (int k = 0; k < KEYS; k++) {
      KeyPair pair = TestPki.ec("secp256r1");
      for (int v = 0; v < 2; v++) {
        String cn = "sim" + k + ".example.com";
        TestPki.Material m =
            v == 0 ? TestPki.csr(pair, cn) : TestPki.csr(pair, cn, cn, "www." + cn);
        CsrFacts csr = CsrValidator.validate(m.csrPem().getBytes(StandardCharsets.UTF_8)).value();
        PrivateKeyFacts key = PrivateKeyValidator.validate(m.pkcs8KeyPem()).value();
        ENTRIES.add(new Entry(k, csr, key));
        PEMS_BY_SHA.put(csr.csrSha256(), csr.pem());
      }
    }
  }

  private SimPool() {}

  static Entry entry(int index) {
    return ENTRIES.get(index);
  }

  /** The other CSR of the same key. */
  static int sibling(int index) {
    return index ^ 1;
  }
}
