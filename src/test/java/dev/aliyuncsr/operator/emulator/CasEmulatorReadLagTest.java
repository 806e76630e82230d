package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.DeleteCsrRequest;
import com.aliyun.cas20200407.models.GetCsrDetailRequest;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.UpdateCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The emulator's read-after-write lag and its per-CsrId counters, through the real SDK: a CSR
 * stored a moment ago is invisible to ListCsr and GetCsrDetail until the lag has passed on the
 * emulator's clock, and every call naming a CsrId is counted for it.
 */
class CasEmulatorReadLagTest {
  private static final String ACCOUNT = "3333333333333333";
  private static final String AK = "LTAI-lag";
  private static final String SECRET = "secret-lag";

  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private CasEmulator emulator;
  private Client client;

  @BeforeEach
  void start() throws Exception {
    emulator =
        CasEmulator.builder()
            .accessKey(ACCOUNT, AK, SECRET)
            .clock(
                new Clock() {
                  @Override
                  public Instant instant() {
                    return now.get();
                  }

                  @Override
                  public java.time.ZoneId getZone() {
                    return ZoneOffset.UTC;
                  }

                  @Override
                  public Clock withZone(java.time.ZoneId zone) {
                    return this;
                  }
                })
            .build()
            .start();
    client =
        new Client(
            new Config()
                .setEndpoint(emulator.endpoint())
                .setProtocol("HTTP")
                .setRegionId("cn-hangzhou")
                .setAccessKeyId(AK)
                .setAccessKeySecret(SECRET));
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  @Test
  void aNewCsrIsInvisibleToTheReadsOfItsAccountUntilTheLagHasPassed() throws Exception {
    var pki = TestPki.ecCsr("secp256r1", "lag.example.com");
    long old = upload("before-the-lag", pki.csrPem());
    emulator.setReadAfterWriteLag(Duration.ofSeconds(2));
    now.set(now.get().plusSeconds(5));
    long fresh = upload("fresh", pki.csrPem());

    TeaException notYet = notFound(fresh);
    assertThat(notYet.getCode()).isEqualTo("NotFound.Csr");
    assertThat(client.listCsr(new ListCsrRequest()).getBody().getCsrList())
        .as("only the CSR stored before the lag began")
        .extracting(item -> item.getCsrId())
        .containsExactly(old);
    assertThat(emulator.csr(fresh)).as("stored all the same").isPresent();

    now.set(now.get().plusMillis(1999));
    assertThat(notFound(fresh).getCode()).isEqualTo("NotFound.Csr");
    now.set(now.get().plusMillis(1));
    assertThat(client.getCsrDetail(new GetCsrDetailRequest().setCsrId(fresh)).getBody().getCsr())
        .isEqualTo(pki.csrPem());
    assertThat(client.listCsr(new ListCsrRequest()).getBody().getTotalCount()).isEqualTo(2L);

    // Writes see a lagging CSR at once; zero turns the lag off for every CSR.
    long another = upload("another", pki.csrPem());
    client.updateCsr(new UpdateCsrRequest().setCsrId(another).setKey(pki.pkcs8KeyPem()));
    assertThat(emulator.csr(another).orElseThrow().hasPrivateKey()).isTrue();
    emulator.setReadAfterWriteLag(Duration.ZERO);
    assertThat(client.getCsrDetail(new GetCsrDetailRequest().setCsrId(another)).getBody())
        .isNotNull();
    client.deleteCsr(new DeleteCsrRequest().setCsrId(another));

    emulator.setReadAfterWriteLag(Duration.ofMinutes(1));
    emulator.reset();
    long afterReset = upload("after-reset", pki.csrPem());
    assertThat(client.getCsrDetail(new GetCsrDetailRequest().setCsrId(afterReset)).getBody())
        .as("reset turns the lag off")
        .isNotNull();
  }

  @Test
  void everyCallNamingACsrIdIsCountedForItWhateverItsOutcome() throws Exception {
    var pki = TestPki.ecCsr("secp256r1", "counted.example.com");
    long id = upload("counted", pki.csrPem());
    long other = upload("other", pki.csrPem());
    client.getCsrDetail(new GetCsrDetailRequest().setCsrId(id));
    client.updateCsr(new UpdateCsrRequest().setCsrId(id).setKey(pki.pkcs8KeyPem()));
    client.deleteCsr(new DeleteCsrRequest().setCsrId(id));
    notFound(id);
    client.listCsr(new ListCsrRequest().setKeyWord("counted"));

    assertThat(emulator.csrCalls(id, "GetCsrDetail")).isEqualTo(2);
    assertThat(emulator.csrCalls(id, "GetCsrDetail", "NotFound.Csr")).isEqualTo(1);
    assertThat(emulator.csrCalls(id, "UpdateCsr", CasEmulator.OK)).isEqualTo(1);
    assertThat(emulator.csrCalls(id, "DeleteCsr")).isEqualTo(1);
    assertThat(emulator.csrCallStats(id)).doesNotContainKeys("ListCsr", "UploadCsr");
    assertThat(emulator.csrCallStats(other)).isEmpty();
    assertThat(emulator.accountCallTimes(ACCOUNT))
        .as("every call of the account, in arrival order")
        .hasSize(emulator.accountCalls(ACCOUNT))
        .isSorted();
  }

  private long upload(String name, String csrPem) throws Exception {
    return client
        .uploadCsr(new UploadCsrRequest().setName(name).setCsr(csrPem))
        .getBody()
        .getCsrId();
  }

  private TeaException notFound(long csrId) {
    Throwable thrown =
        catchThrowable(() -> client.getCsrDetail(new GetCsrDetailRequest().setCsrId(csrId)));
    assertThat(thrown).isInstanceOf(TeaException.class);
    return (TeaException) thrown;
  }
}
