package dev.aliyuncsr.operator.csr;

import java.util.List;

/**
 * What a valid CSR says about itself. {@code pem} is the normalised PEM text that is uploaded;
 * hashes are lower-case hex SHA-256.
 *
 * @param csrSha256 of the CSR's DER encoding
 * @param publicKeySha256 of the DER SubjectPublicKeyInfo
 * @param keyAlgorithm "RSA" or "EC"
 * @param keySize RSA modulus bits or EC field bits
 */
public record CsrFacts(
    String pem,
    String csrSha256,
    String publicKeySha256,
    String commonName,
    List<String> sans,
    String keyAlgorithm,
    int keySize) {}
