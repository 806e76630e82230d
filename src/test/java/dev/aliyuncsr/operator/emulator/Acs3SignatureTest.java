package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The emulator's ACS3-HMAC-SHA256 code against the reference's test vectors (§4.4). */
class Acs3SignatureTest {
  private static final String SECRET = "testAccessKeySecret";

  private static TreeMap<String, String> commonHeaders(String action) {
    TreeMap<String, String> headers = new TreeMap<>();
    headers.put("host", "cas.aliyuncs.com");
    headers.put("x-acs-action", action);
    headers.put("x-acs-version", "2020-04-07");
    headers.put("x-acs-date", "2024-01-01T00:00:00Z");
    headers.put("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d");
    headers.put("x-acs-content-sha256", Acs3Signature.EMPTY_BODY_SHA256);
    return headers;
  }

  private static CanonicalRequest vectorA(QueryParameters query) {
    return new CanonicalRequest(
        "POST", "/", query, commonHeaders("UploadCsr"), Acs3Signature.EMPTY_BODY_SHA256);
  }

  private static CanonicalRequest vectorB(QueryParameters query) {
    TreeMap<String, String> headers = commonHeaders("ListCsr");
    headers.put("x-acs-accesskey-id", "testAccessKeyId");
    headers.put("x-acs-security-token", "testSecurityToken/+=");
    return new CanonicalRequest("POST", "/", query, headers, Acs3Signature.EMPTY_BODY_SHA256);
  }

  @Test
  void vectorA_uploadCsrWithAccessKey() {
    CanonicalRequest request =
        vectorA(
            QueryParameters.of(
                List.of(
                    new QueryParameters.Parameter("Name", "test_csr-1"),
                    new QueryParameters.Parameter(
                        "Csr",
                        "-----BEGIN CERTIFICATE REQUEST-----\nMIIB+x/y=\n"
                            + "-----END CERTIFICATE REQUEST-----"))));

    assertThat(request.text())
        .isEqualTo(
            "POST\n"
                + "/\n"
                + "Csr=-----BEGIN%20CERTIFICATE%20REQUEST-----%0AMIIB%2Bx%2Fy%3D%0A"
                + "-----END%20CERTIFICATE%20REQUEST-----&Name=test_csr-1\n"
                + "host:cas.aliyuncs.com\n"
                + "x-acs-action:UploadCsr\n"
                + "x-acs-content-sha256:"
                + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                + "x-acs-date:2024-01-01T00:00:00Z\n"
                + "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
                + "x-acs-version:2020-04-07\n"
                + "\n"
                + "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
                + "x-acs-version\n"
                + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(request.sha256Hex())
        .isEqualTo("c133a30ae963f9218a6054be180577817432c74d7c642f9f289ef20dadd2699b");
    assertThat(Acs3Signature.stringToSign(request))
        .isEqualTo(
            "ACS3-HMAC-SHA256\nc133a30ae963f9218a6054be180577817432c74d7c642f9f289ef20dadd2699b");
    assertThat(Acs3Signature.sign(SECRET, request))
        .isEqualTo("196ee5c9a3f00429d6e5e3656cae4158880237915b8ddaf388a0d30acb74b7f5");
    assertThat(Acs3Signature.authorization("testAccessKeyId", SECRET, request))
        .isEqualTo(
            "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-action;"
                + "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                + "Signature=196ee5c9a3f00429d6e5e3656cae4158880237915b8ddaf388a0d30acb74b7f5");
  }

  @Test
  void vectorA_fromTheFormEncodedQueryTheSdkSends() {
    // URLEncoder output, in HashMap order, as captured from the SDK.
    QueryParameters query =
        QueryParameters.parse(
            "Name=test_csr-1&Csr=-----BEGIN+CERTIFICATE+REQUEST-----%0AMIIB%2Bx%2Fy%3D%0A"
                + "-----END+CERTIFICATE+REQUEST-----");

    assertThat(Acs3Signature.sign(SECRET, vectorA(query)))
        .isEqualTo("196ee5c9a3f00429d6e5e3656cae4158880237915b8ddaf388a0d30acb74b7f5");
  }

  @Test
  void vectorB_listCsrWithStsToken() {
    QueryParameters query = QueryParameters.parse("ShowSize=10&KeyWord=my+csr*%7E&CurrentPage=1");
    CanonicalRequest request = vectorB(query);

    assertThat(query.canonical()).isEqualTo("CurrentPage=1&KeyWord=my%20csr%2A~&ShowSize=10");
    assertThat(request.signedHeaderNames())
        .isEqualTo(
            "host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;"
                + "x-acs-security-token;x-acs-signature-nonce;x-acs-version");
    assertThat(request.sha256Hex())
        .isEqualTo("cf98dbd7db62670c2b8852aef8bda3e906dd8343f909129e22a597bf32660e45");
    assertThat(Acs3Signature.sign(SECRET, request))
        .isEqualTo("e186ba9d76898f5111d5b101016716382210fd85cb89d1c068a8ec38a8f12c9a");
  }

  @Test
  void emptyQueryAndEmptyValues() {
    assertThat(QueryParameters.parse("").canonical()).isEmpty();
    assertThat(QueryParameters.parse(null).canonical()).isEmpty();
    assertThat(QueryParameters.parse("B=&A").canonical()).isEqualTo("A=&B=");
  }

  @Test
  void authorizationHeaderRoundTrips() {
    String header = "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=abc123";

    Acs3Authorization parsed = Acs3Authorization.parse(header).orElseThrow();

    assertThat(parsed.credential()).isEqualTo("ak");
    assertThat(parsed.signedHeaderNames()).containsExactly("host", "x-acs-date");
    assertThat(parsed.signature()).isEqualTo("abc123");
    assertThat(parsed.headerValue()).isEqualTo(header);
  }

  @Test
  void garbledAuthorizationHeadersAreRejected() {
    assertThat(Acs3Authorization.parse(null)).isEmpty();
    assertThat(Acs3Authorization.parse("")).isEmpty();
    assertThat(Acs3Authorization.parse("acs ak:signature")).isEmpty();
    assertThat(Acs3Authorization.parse("ACS3-HMAC-SHA256 Credential=ak,Signature=x")).isEmpty();
    assertThat(
            Acs3Authorization.parse(
                "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=x,Extra=y"))
        .isEmpty();
    assertThat(
            Acs3Authorization.parse("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=x"))
        .isEmpty();
  }
}
