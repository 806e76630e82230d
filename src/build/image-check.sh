#!/usr/bin/env bash
# Builds the project's Dockerfile and runs the image the way the shipped Deployment runs it, on a
# machine without Docker and without a registry: Debian's podman (rootful, with runc) and two local
# base images built from Debian's packages with mmdebstrap (a JDK 17 for the build stage, a JRE 17
# for the runtime), cached in podman's store. The Dockerfile is built unchanged, except for its
# BUILD_IMAGE and RUNTIME_IMAGE arguments.
#
# The container runs as deploy/03-deployment.yaml says (its UID and GID, read-only root, /tmp as a
# tmpfs, its memory limit, no capabilities, its environment) with host networking, against a real
# kube-apiserver + etcd and the project's CAS emulator on loopback (ImageCheckCluster, from the
# test classpath), with a kubeconfig of deploy/'s ServiceAccount mounted read-only. It shows that
# an example AliyunCsr becomes Ready, that /healthz, /readyz and /metrics answer, and that SIGTERM
# stops the container within the grace period (with LEADER_ELECTION as the Deployment sets it, and
# the other way) and releases the leader-election Lease. It prints the image size, the container's
# memory use, and how long each step took.
#
# Exits non-zero, saying why, when anything fails, including a machine that cannot run containers.
# Needs root (rootful podman) and the Kubernetes binaries of src/build/kube-binaries.sh.
#
# Settings (environment): IMAGE_CHECK_BUILD_DIR (Maven build directory for the test classpath,
# default target/), IMAGE_CHECK_IMAGE (tag of the image built), IMAGE_CHECK_SUITE (Debian suite of
# the local bases, default bookworm), IMAGE_CHECK_MIRROR and IMAGE_CHECK_SECURITY_MIRROR (their
# Debian mirrors), K8S_VERSION.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

K8S_VERSION="${K8S_VERSION:-1.36.3}"
suite="${IMAGE_CHECK_SUITE:-bookworm}"
image="${IMAGE_CHECK_IMAGE:-localhost/aliyun-csr-operator:image-check}"
build_dir="${IMAGE_CHECK_BUILD_DIR:-$root/target}"
mirror="${IMAGE_CHECK_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${IMAGE_CHECK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
host_cas=/usr/local/share/ca-certificates
container="aliyun-csr-operator-image-check-$$"
pod_name="aliyun-csr-operator-7d4b9c-image-check"

work="$(mktemp -d -t image-check.XXXXXX)"
state="$work/state"
cluster_pid=""
containers=()

say() { echo "image-check: $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- step timings ------------------------------------------------------------------------------
step_names=() step_secs=() step_name="" step_start=""
step() {
  step_end
  step_name="$1" step_start="$(now)"
  echo "== image-check: $1"
}
step_end() {
  if [[ -n "$step_name" ]]; then
    step_names+=("$step_name") step_secs+=("$(secs "$step_start" "$(now)")")
    step_name=""
  fi
}
print_timings() {
  step_end
  local i total=0
  echo "image-check: time per step"
  for i in "${!step_names[@]}"; do
    printf '  %6s s  %s\n' "${step_secs[$i]}" "${step_names[$i]}"
    total="$(awk -v a="$total" -v b="${step_secs[$i]}" 'BEGIN { print a + b }')"
  done
  printf '  %6.1f s  total\n' "$total"
}

fail() {
  echo "image-check: FAILED: $*" >&2
  declare -F fail_hook >/dev/null && fail_hook
  if [[ -f "$work/cluster.log" ]]; then
    echo "image-check: last lines of the cluster's log ($work/cluster.log):" >&2
    tail -n 20 "$work/cluster.log" | sed 's/^/  | /' >&2
  fi
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  local c
  for c in "${containers[@]}"; do
    pm rm -f -t 0 "$c" >/dev/null 2>&1
  done
  if [[ -n "$cluster_pid" ]] && kill -0 "$cluster_pid" 2>/dev/null; then
    # SIGTERM: its shutdown hooks stop kube-apiserver, etcd and the emulator. Should it hang, its
    # process group (its own, from setsid: the helper and the servers it started) is killed.
    kill -TERM "$cluster_pid"
    cluster_gone() { ! kill -0 "$cluster_pid" 2>/dev/null; }
    if ! poll 30 cluster_gone; then
      say "the cluster helper did not stop within 30 s of SIGTERM; killing its process group" >&2
      kill -KILL -- "-$cluster_pid"
    fi
    wait "$cluster_pid" 2>/dev/null
  fi
  if ((rc != 0)); then
    print_timings >&2
    echo "image-check: FAILED (exit $rc); logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# Polls "$@" until it succeeds or $1 seconds pass. Returns 1 on timeout.
poll() {
  local timeout="$1"
  shift
  local deadline
  deadline="$(awk -v t="$(now)" -v d="$timeout" 'BEGIN { printf "%.3f", t + d }')"
  until "$@"; do
    if awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
      return 1
    fi
    # The wait between tries of a poll with a deadline, not a synchronisation by itself.
    sleep 0.2
  done
}

# Runs "$@" with a line every 30 s, so that a long quiet command shows that it is alive.
beat() {
  local what="$1" started=$SECONDS pid rc=0
  shift
  # On stderr, also so that a $(...) around beat does not wait for the heartbeat's sleep.
  (while sleep 30; do say "still $what ($((SECONDS - started)) s)"; done) >&2 &
  pid=$!
  "$@" || rc=$?
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  return "$rc"
}

# ---- 1. tools ----------------------------------------------------------------------------------
step "tools: podman, buildah, runc, mmdebstrap, uidmap, fuse-overlayfs"
if [[ "$(id -u)" != 0 ]]; then
  fail "this check runs rootful podman and needs root; this machine cannot run the containers as $(id -un)"
fi
missing=()
for pair in podman:podman buildah:buildah runc:runc mmdebstrap:mmdebstrap newuidmap:uidmap \
  fuse-overlayfs:fuse-overlayfs curl:curl; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  say "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update failed"; }
  apt-get install -y -q "${missing[@]}" >>"$work/apt.log" 2>&1 ||
    { tail -n 30 "$work/apt.log" >&2; fail "cannot install ${missing[*]} from Debian's packages"; }
fi
say "$(podman --version), $(buildah --version | cut -d' ' -f1-3), $(runc --version | head -1), mmdebstrap $(mmdebstrap --version | awk '{print $2}')"

# Podman settings for these machines (see the README): runc, cgroupfs, no ulimits to raise.
conf="$work/containers.conf"
cat >"$conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
export CONTAINERS_CONF="$conf"
pm() { podman --runtime runc "$@"; }

# ---- 2. local base images ----------------------------------------------------------------------
# Their tag is a hash of what goes into them, so a change of suite, packages or host CAs rebuilds.
ca_hash="none"
if [[ -d "$host_cas" ]] && [[ -n "$(ls -A "$host_cas")" ]]; then
  ca_hash="$(cd "$host_cas" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
fi
base_image() { # NAME PACKAGES
  local name="$1" packages="$2" tag tar
  tag="localhost/aliyun-csr-operator-base/$name:$(printf '%s|%s|%s|%s|v1' "$suite" "$mirror" "$packages" "$ca_hash" | sha256sum | cut -c1-12)"
  if pm image exists "$tag"; then
    say "$name: cached as $tag" >&2
  else
    say "$name: building $tag with mmdebstrap from Debian $suite ($packages)" >&2
    tar="$work/$name.tar"
    local hooks=()
    if [[ "$ca_hash" != none ]]; then
      # This machine's CAs, for the local base only: Maven in the build stage trusts what the host
      # trusts. The shipped Dockerfile never gets them.
      hooks+=(--customize-hook="copy-in $host_cas /usr/local/share"
        --customize-hook='chroot "$1" update-ca-certificates')
    fi
    # Without documentation and translations; man pages stay, since OpenJDK's postinst links
    # them with update-alternatives and fails where /usr/share/man/man1 is missing.
    beat "building the $name base" mmdebstrap --variant=apt --include="$packages" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      "${hooks[@]}" "$suite" "$tar" \
      "deb $mirror $suite main" "deb $mirror $suite-updates main" \
      "deb $security_mirror $suite-security main" </dev/null >"$work/$name-mmdebstrap.log" 2>&1 ||
      { tail -n 30 "$work/$name-mmdebstrap.log" >&2; fail "mmdebstrap could not build the $name base"; }
    pm import --quiet --change 'ENV LANG=C.UTF-8' "$tar" "$tag" >/dev/null ||
      fail "podman import of the $name base failed"
    rm -f "$tar"
  fi
  echo "$tag"
}
step "local base image: JDK 17 for the build stage"
jdk_image="$(base_image jdk17 openjdk-17-jdk-headless,ca-certificates,ca-certificates-java)"
step "local base image: JRE 17 for the runtime"
jre_image="$(base_image jre17 openjdk-17-jre-headless,ca-certificates,ca-certificates-java)"

step "can this machine run containers?"
if ! probe="$(pm run --rm --network=host --user 10001:10001 --read-only --tmpfs /tmp --memory 384m \
  --cap-drop=ALL "$jre_image" java -XX:-UsePerfData -version 2>&1)"; then
  echo "$probe" | sed 's/^/  | /' >&2
  fail "this machine cannot run containers (podman with runc failed to run the JRE base above); the image could not be checked"
fi
say "yes: $(echo "$probe" | head -1), as UID 10001 with a read-only root and a 384 MiB limit"

# ---- 3. the project's Dockerfile ---------------------------------------------------------------
step "podman build of the Dockerfile (unchanged but for BUILD_IMAGE and RUNTIME_IMAGE)"
pom_version="$(sed -n '/<artifactId>aliyun-csr-operator<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;q}' pom.xml)"
beat "building the image" pm build --pull=never --network=host \
  --build-arg BUILD_IMAGE="$jdk_image" --build-arg RUNTIME_IMAGE="$jre_image" \
  -t "$image" -f Dockerfile . >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log" >&2; fail "podman build failed (whole log: $work/build.log)"; }
say "$(grep -c -- '--> Using cache' "$work/build.log" || true) of $(grep -c 'STEP [0-9]' "$work/build.log" || true) steps from podman's layer cache (log: $work/build.log)"
# Each build leaves its build stage as an untagged image (~650 MB). Tag the newest one (all from
# the cache, so this takes a second) to keep it as the next build's cache, and drop the older ones.
pm build --pull=never --network=host --target build \
  --build-arg BUILD_IMAGE="$jdk_image" --build-arg RUNTIME_IMAGE="$jre_image" \
  -t "$image-build-stage" -f Dockerfile . >>"$work/build.log" 2>&1 || fail "podman build --target build failed"
pm image prune -f >/dev/null || true

image_bytes="$(pm image inspect --format '{{.Size}}' "$image")"
base_bytes="$(pm image inspect --format '{{.Size}}' "$jre_image")"
image_mib="$(awk -v b="$image_bytes" 'BEGIN { printf "%.0f", b / 1048576 }')"
base_mib="$(awk -v b="$base_bytes" 'BEGIN { printf "%.0f", b / 1048576 }')"
say "image $image: $image_mib MiB ($image_bytes bytes), of which the local JRE base is $base_mib MiB"

user="$(pm image inspect --format '{{.Config.User}}' "$image")"
[[ "$user" == 10001:10001 ]] || fail "the image runs as '$user', not 10001:10001"
label() { pm image inspect --format "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$image"; }
for l in source version licenses; do
  [[ -n "$(label "$l")" ]] || fail "the image has no org.opencontainers.image.$l label"
done
[[ "$(label version)" == "$pom_version" ]] ||
  fail "label org.opencontainers.image.version is $(label version), the pom says $pom_version"
say "labels: source $(label source), version $(label version), licenses $(label licenses)"
if pm run --rm --network=none --entrypoint /bin/sh "$image" -c \
  'command -v javac || command -v mvn || test -e /src || test -e /root/.m2' >/dev/null 2>&1; then
  fail "the runtime image contains build tools or the build's sources"
fi
say "runtime stage: user 10001:10001, no javac, no Maven, no sources"

# ---- 4. kube-apiserver + etcd and the CAS emulator on loopback ---------------------------------
step "kube-apiserver, etcd and kubectl (src/build/kube-binaries.sh)"
K8S_VERSION="$K8S_VERSION" bash src/build/kube-binaries.sh
case "$(uname -m)" in x86_64) arch=amd64 ;; *) arch=arm64 ;; esac
kubectl="${KUBEAPITEST_HOME:-$HOME/.kubeapitest}/k8s/${K8S_VERSION}-linux-${arch}/kubectl"
[[ -x "$kubectl" ]] || fail "no kubectl at $kubectl"

step "test classpath for the cluster helper (Maven, build directory $build_dir)"
beat "compiling" ./mvnw -B -q -DbuildDir="$build_dir" -DskipTests -Dspotless.check.skip=true \
  test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$work/classpath.txt" >"$work/maven.log" 2>&1 ||
  { tail -n 40 "$work/maven.log" >&2; fail "cannot compile the test classes"; }

step "starting kube-apiserver + etcd + CAS emulator (ImageCheckCluster)"
setsid java -Xmx512m -Dkube.version="$K8S_VERSION" \
  -cp "$build_dir/test-classes:$build_dir/classes:$(cat "$work/classpath.txt")" \
  dev.aliyuncsr.operator.image.ImageCheckCluster "$state" "$root/deploy" >"$work/cluster.log" 2>&1 &
cluster_pid=$!
cluster_up() {
  kill -0 "$cluster_pid" 2>/dev/null || fail "the cluster helper exited before it was ready"
  [[ -f "$state/ready" ]]
}
poll 180 cluster_up || fail "kube-apiserver, etcd and the emulator were not up within 180 s"
sed 's/^/  | /' "$work/cluster.log"
k() { "$kubectl" --kubeconfig "$state/admin.kubeconfig" "$@"; }

# ---- 5. the container, as the Deployment runs it -----------------------------------------------
step "container settings from deploy/03-deployment.yaml"
deployment=deploy/03-deployment.yaml
jp() { k create --dry-run=client -f "$deployment" -o jsonpath="$1"; }
namespace="$(jp '{.metadata.namespace}')"
run_user="$(jp '{.spec.template.spec.securityContext.runAsUser}')"
run_group="$(jp '{.spec.template.spec.securityContext.runAsGroup}')"
memory="$(jp '{.spec.template.spec.containers[0].resources.limits.memory}')"
grace="$(jp '{.spec.template.spec.terminationGracePeriodSeconds}')"
grace="${grace:-30}" # the Kubernetes default when the Deployment does not set it
read_only="$(jp '{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}')"
drop="$(jp '{.spec.template.spec.containers[0].securityContext.capabilities.drop[*]}')"
no_escalation="$(jp '{.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation}')"
tmp_mount="$(jp '{.spec.template.spec.containers[0].volumeMounts[?(@.name=="tmp")].mountPath}')"
case "$memory" in
  *Mi) podman_memory="${memory%Mi}m" ;;
  *Gi) podman_memory="${memory%Gi}g" ;;
  *) fail "cannot translate the memory limit '$memory' for podman" ;;
esac
run_args=(--network=host --user "$run_user:$run_group" --memory "$podman_memory")
[[ "$read_only" == true ]] && run_args+=(--read-only)
[[ "$drop" == ALL ]] && run_args+=(--cap-drop=ALL)
[[ "$no_escalation" == false ]] && run_args+=(--security-opt=no-new-privileges)
[[ -n "$tmp_mount" ]] && run_args+=(--tmpfs "$tmp_mount")

# The Deployment's environment; downward-API and Secret values filled as the kubelet would.
env_file="$work/operator.env"
: >"$env_file"
while IFS='|' read -r name value field secret_key; do
  [[ -n "$name" ]] || continue
  if [[ -n "$field" ]]; then
    case "$field" in
      metadata.name) value="$pod_name" ;;
      metadata.namespace) value="$namespace" ;;
      *) fail "the Deployment's $name uses fieldRef $field, which this check does not fill" ;;
    esac
  elif [[ -n "$secret_key" ]]; then
    case "$secret_key" in
      access-key-id) value="$(cat "$state/access-key-id")" ;;
      access-key-secret) value="$(cat "$state/access-key-secret")" ;;
      *) fail "the Deployment's $name uses Secret key $secret_key, which this check does not fill" ;;
    esac
  fi
  printf '%s=%s\n' "$name" "$value" >>"$env_file"
done < <(jp '{range .spec.template.spec.containers[0].env[*]}{.name}|{.value}|{.valueFrom.fieldRef.fieldPath}|{.valueFrom.secretKeyRef.key}{"\n"}{end}')
http_port="$(sed -n 's/^HTTP_PORT=//p' "$env_file")"
http_port="${http_port:-8080}"
# What differs from the Deployment, and why: the CAS emulator instead of cas.aliyuncs.com, over
# HTTP; the API server from a mounted kubeconfig of the ServiceAccount instead of the in-cluster
# one. A second run turns LEADER_ELECTION the other way, so that both settings are checked.
overrides=("CAS_ENDPOINT=$(cat "$state/cas-endpoint")" CAS_PROTOCOL=http
  KUBECONFIG=/var/run/aliyun-csr-operator/kubeconfig)
if ss -ltnH "( sport = :$http_port )" | grep -q .; then
  free_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  say "port $http_port is taken on this host; the container serves on $free_port instead"
  http_port="$free_port"
  overrides+=("HTTP_PORT=$http_port")
fi
set_env() { # FILE NAME=VALUE...
  local file="$1" o
  shift
  for o in "$@"; do
    sed -i "/^${o%%=*}=/d" "$file"
    echo "$o" >>"$file"
  done
}
set_env "$env_file" "${overrides[@]}"
say "podman run ${run_args[*]} -v operator.kubeconfig:/var/run/aliyun-csr-operator/kubeconfig:ro"
say "environment: $(grep -v '^ALIBABA_CLOUD_ACCESS_KEY_SECRET=' "$env_file" | tr '\n' ' ')ALIBABA_CLOUD_ACCESS_KEY_SECRET=(emulator's)"
say "grace period: $grace s"

current=""
fail_hook() {
  if [[ -n "$current" ]] && pm container exists "$current" 2>/dev/null; then
    echo "image-check: last lines of the log of container $current:" >&2
    pm logs --tail 25 "$current" 2>&1 | sed 's/^/  | /' >&2 || true
  fi
}
start_container() { # NAME ENV_FILE
  current="$container-$1"
  containers+=("$current")
  local started
  started="$(now)"
  pm run -d --name "$current" "${run_args[@]}" --env-file "$2" \
    -v "$state/operator.kubeconfig:/var/run/aliyun-csr-operator/kubeconfig:ro" "$image" >/dev/null ||
    fail "podman run failed"
  poll 60 answers /healthz || fail "/healthz did not answer 200 within 60 s (the startupProbe's budget)"
  say "/healthz answered $(secs "$started" "$(now)") s after podman run"
  poll 60 answers /readyz || fail "/readyz did not answer 200 within 60 s"
  say "/readyz answered $(secs "$started" "$(now)") s after podman run"
}
running() { [[ "$(pm inspect --format '{{.State.Running}}' "$current")" == true ]]; }
answers() { # PATH: 200 from the operator, and the container still running
  running || fail "the container exited ($(pm inspect --format '{{.State.ExitCode}}' "$current"))"
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$http_port$1" 2>/dev/null
}
stopped() { [[ "$(pm inspect --format '{{.State.Running}}' "$current")" == false ]]; }
stop_secs=()
sigterm() { # the kubelet's stop: SIGTERM to PID 1, SIGKILL when the grace period has passed
  local term
  term="$(now)"
  pm kill --signal TERM "$current" >/dev/null
  if ! poll "$grace" stopped; then
    # Before the SIGKILL that Kubernetes would send: a thread dump, to show what it waits on.
    pm kill --signal QUIT "$current" >/dev/null 2>&1 || true
    dumped() { pm logs "$current" 2>&1 | grep -q 'JNI global refs'; }
    poll 10 dumped || true
    echo "image-check: thread dump of the container after $grace s, the shutdown hook's thread:" >&2
    pm logs "$current" 2>&1 | awk '/^"shutdown"/ { p = 1 } p && /^$/ { exit } p' | sed 's/^/  | /' >&2
    echo "image-check: the container's last log lines before the dump:" >&2
    pm logs "$current" 2>&1 | grep '^{' | tail -n 4 | sed 's/^/  | /' >&2
    current="" # its log is shown above
    fail "the container did not stop within the grace period of $grace s after SIGTERM (Kubernetes would SIGKILL it)"
  fi
  local took exit_code
  took="$(secs "$term" "$(now)")"
  exit_code="$(pm inspect --format '{{.State.ExitCode}}' "$current")"
  # 143 is the JVM's exit after SIGTERM and its shutdown hooks; 137 would be a SIGKILL.
  [[ "$exit_code" == 143 || "$exit_code" == 0 ]] || fail "the container exited with $exit_code after SIGTERM"
  pm logs "$current" 2>&1 | tail -n 3 | sed 's/^/  | /'
  say "stopped $took s after SIGTERM (exit $exit_code; grace period $grace s)"
  stop_secs+=("$took")
}

lease_holder() {
  k -n "$namespace" get lease aliyun-csr-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}
holds_lease() { [[ "$(lease_holder)" == "$pod_name" ]]; }
leader_election_of() { # ENV_FILE: the operator's default is false
  local v
  v="$(sed -n 's/^LEADER_ELECTION=//p' "$1")"
  case "${v,,}" in true | 1 | yes) echo true ;; *) echo false ;; esac
}
check_lease_held() {
  poll 30 holds_lease || fail "the Lease $namespace/aliyun-csr-operator is held by '$(lease_holder)', not $pod_name"
  say "leader: Lease $namespace/aliyun-csr-operator held by $(lease_holder)"
}
check_lease_released() {
  [[ -z "$(lease_holder)" ]] || fail "the Lease is still held by '$(lease_holder)' after the container stopped"
  say "the Lease $namespace/aliyun-csr-operator has no holder"
}
le1="$(leader_election_of "$env_file")"
le2=true
[[ "$le1" == true ]] && le2=false
env2="$work/operator-2.env"
cp "$env_file" "$env2"
set_env "$env2" LEADER_ELECTION="$le2"

step "run 1, as deploy/ ships it (LEADER_ELECTION=$le1): start until /healthz and /readyz answer"
start_container deploy "$env_file"
[[ "$le1" == true ]] && check_lease_held
if pm exec "$current" /bin/sh -c 'echo x > /opt/aliyun-csr-operator/x' 2>/dev/null; then
  fail "the root filesystem is writable"
fi
say "the root filesystem is read-only; /tmp is $(pm exec "$current" /bin/sh -c 'grep " /tmp " /proc/mounts | cut -d" " -f3')"

step "run 1: the examples of deploy/examples become Ready"
k apply -f "$state/examples.yaml" | sed 's/^/  | /'
applied="$(now)"
mapfile -t csrs < <(k get aliyuncsrs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}')
((${#csrs[@]})) || fail "no AliyunCsr after applying the examples"
ready_count() {
  k get aliyuncsrs -A -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -c '^True$'
}
all_ready() { running || fail "the container exited"; [[ "$(ready_count)" == "${#csrs[@]}" ]]; }
poll 60 all_ready || {
  k get aliyuncsrs -A -o wide >&2
  fail "only $(ready_count) of ${#csrs[@]} AliyunCsrs became Ready within 60 s"
}
time_to_ready="$(secs "$applied" "$(now)")"
k get aliyuncsrs -A | sed 's/^/  | /'
say "${#csrs[@]} AliyunCsrs Ready ${time_to_ready} s after kubectl apply"

step "run 1: /healthz, /readyz, /metrics and memory use"
for path in /healthz /readyz; do
  answers "$path" || fail "$path does not answer 200"
  say "$path: 200 $(curl -fsS --max-time 2 "http://127.0.0.1:$http_port$path" | head -c 80)"
done
curl -fsS --max-time 5 "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt" || fail "/metrics does not answer 200"
for metric in aliyuncsr_resources aliyuncsr_reconciles_total aliyuncsr_cas_calls; do
  grep -q "^$metric" "$work/metrics.txt" || fail "/metrics has no $metric"
done
grep -E '^aliyuncsr_resources' "$work/metrics.txt" | sed 's/^/  | /'
say "/metrics: 200, $(grep -vc '^#' "$work/metrics.txt") samples"
mem_stats="$(pm stats --no-stream --format '{{.MemUsage}}' "$current" 2>/dev/null || echo "unavailable")"
pid="$(pm inspect --format '{{.State.Pid}}' "$current")"
rss_mib="$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
say "memory after the examples: podman stats $mem_stats; JVM resident set $rss_mib MiB (limit $memory)"

step "run 1: SIGTERM stops the container within the grace period$([[ "$le1" == true ]] && echo " and releases the Lease")"
sigterm
[[ "$le1" == true ]] && check_lease_released

step "run 2, with LEADER_ELECTION=$le2: start until /healthz and /readyz answer"
start_container le-"$le2" "$env2"
[[ "$le2" == true ]] && check_lease_held

step "run 2: SIGTERM stops the container within the grace period$([[ "$le2" == true ]] && echo " and releases the Lease")"
sigterm
[[ "$le2" == true ]] && check_lease_released
current=""

step_end
echo "image-check: summary"
echo "  image:              $image_mib MiB ($image; the local JRE base is $base_mib MiB)"
echo "  memory after ex.:   $mem_stats (podman stats); $rss_mib MiB JVM RSS; limit $memory"
echo "  time to Ready:      $time_to_ready s for ${#csrs[@]} AliyunCsrs after kubectl apply"
echo "  SIGTERM to stopped: ${stop_secs[0]} s with LEADER_ELECTION=$le1, ${stop_secs[1]} s with LEADER_ELECTION=$le2 (grace period $grace s); Lease released"
print_timings
say "the image was built and ran as the Deployment runs it: all checks passed"
