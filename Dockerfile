# The base images are build arguments so that a machine without a registry can pass local ones
# (src/build/image-check.sh does). The defaults are the public Eclipse Temurin images of Java 17,
# whose tags follow the latest 17 update; a release may pin them by digest (IMAGE@sha256:...).
ARG BUILD_IMAGE=eclipse-temurin:17-jdk-noble
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre-noble

# Build: the Maven wrapper and the project's own pom, nothing else. The build checks the CRD in
# crds/ and the chart's copy under deploy/helm/ against the Java types, so both are copied.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
# Maven, the plugins and the dependencies in a layer of their own: a change under src/ reuses it.
RUN ./mvnw -B -q dependency:go-offline
COPY crds crds
COPY deploy deploy
COPY src src
# The tests run in CI (.ci/run), not here: their sources are not even compiled.
RUN ./mvnw -B -q -Dmaven.test.skip=true -Dspotless.check.skip=true package

# Run: a JRE, the jar, a numeric non-root user; works with a read-only root filesystem
# (the Deployment mounts an emptyDir at /tmp, the only place the JVM writes).
FROM ${RUNTIME_IMAGE}
# The version of the pom; a release build passes its own (--build-arg VERSION=0.1.0).
ARG VERSION=0.1.0-SNAPSHOT
ARG SOURCE_URL=https://github.com/aliyun-csr-operator/aliyun-csr-operator
# No licence is declared in the pom or the README yet (SPDX NOASSERTION).
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="aliyun-csr-operator" \
      org.opencontainers.image.description="Kubernetes operator that uploads certificate signing requests to Alibaba Cloud CAS exactly once" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="${LICENSES}"
COPY --from=build /src/target/aliyun-csr-operator.jar /opt/aliyun-csr-operator/aliyun-csr-operator.jar
USER 10001:10001
# Heap as a share of the container's memory limit; SerialGC suits one or two cores and a small
# heap; C1 only (TieredStopAtLevel=1): the operator waits on the network, and C2's compile threads
# cost more CPU and memory than its faster code gives back; compiled after a tenth of the usual
# calls (CompileThresholdScaling=0.1), because an operator sees few events and would otherwise
# run its per-resource path interpreted for a long time (BENCHMARKS.md); no perf-data file on the
# read-only filesystem.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=70 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData -Djava.io.tmpdir=/tmp"
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/aliyun-csr-operator/aliyun-csr-operator.jar"]
