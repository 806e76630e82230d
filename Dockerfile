# Build: the Maven wrapper and the project's own pom, nothing else.
FROM eclipse-temurin:17.0.15_6-jdk-noble AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY crds crds
COPY src src
RUN ./mvnw -B -q -DskipTests -Dspotless.check.skip=true package

# Run: a JRE, the jar, a numeric non-root user; works with a read-only root filesystem
# (the Deployment mounts an emptyDir at /tmp, the only place the JVM writes).
FROM eclipse-temurin:17.0.15_6-jre-noble
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
