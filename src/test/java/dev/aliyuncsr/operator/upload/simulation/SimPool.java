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
 * adds a SAN, as regenerating a CSR from the same key does). Generated once per test run. Each
 * tenant holds the private keys of its own share of them ({@link #FOREIGN_KEY}: nobody's here); a
 * CSR is public, so any tenant may copy any CSR.
 */
final class SimPool {
  /** One CSR and the key it was made with. */
  record Entry(int keyIndex, CsrFacts csr, PrivateKeyFacts key) {}

  static final int KEYS = 10;

  /** The key of another team, outside the simulated cluster: no tenant here holds it. */
  static final int FOREIGN_KEY = KEYS - 1;

  static final List<Entry> ENTRIES = new ArrayList<>();
  static final Map<String, String> PEMS_BY_SHA = new LinkedHashMap<>();
  private static final Map<String, Entry> BY_PEM = new LinkedHashMap<>();

  /** The public key (SHA-256 of its SubjectPublicKeyInfo) of each private key PEM. */
  private static final Map<String, String> PUBLIC_OF_KEY = new LinkedHashMap<>();

  static {
    for (int k = 0; k < KEYS; k++) {
      KeyPair pair = TestPki.ec("secp256r1");
      for (int v = 0; v < 2; v++) {
        String cn = "sim" + k + ".example.com";
        TestPki.Material m =
            v == 0 ? TestPki.csr(pair, cn) : TestPki.csr(pair, cn, cn, "www." + cn);
        CsrFacts csr = CsrValidator.validate(m.csrPem().getBytes(StandardCharsets.UTF_8)).value();
        PrivateKeyFacts key = PrivateKeyValidator.validate(m.pkcs8KeyPem()).value();
        Entry entry = new Entry(k, csr, key);
        ENTRIES.add(entry);
        PEMS_BY_SHA.put(csr.csrSha256(), csr.pem());
        BY_PEM.put(csr.pem(), entry);
        PUBLIC_OF_KEY.put(key.pem(), key.publicKeySha256());
      }
    }
  }

  private SimPool() {}

  static Entry entry(int index) {
    return ENTRIES.get(index);
  }

  /** The entry whose CSR is {@code pem}. */
  static Entry byPem(String pem) {
    Entry e = BY_PEM.get(pem);
    if (e == null) {
      throw new IllegalStateException("unknown CSR uploaded");
    }
    return e;
  }

  /** The public key of the private key {@code pem}; null when it is none of the pool's. */
  static String publicKeyOf(String keyPem) {
    return PUBLIC_OF_KEY.get(keyPem);
  }

  /** The public key of key {@code index}. */
  static String publicKey(int index) {
    return entry(2 * index).csr().publicKeySha256();
  }

  /** The other CSR of the same key. */
  static int sibling(int index) {
    return index ^ 1;
  }
}
