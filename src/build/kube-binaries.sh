#!/usr/bin/env bash
# Builds a pinned kube-apiserver, kubectl and etcd from the Go module proxy and puts them where
# fabric8 kube-api-test looks for them (~/.kubeapitest/k8s/<version>-linux-<arch>/), so the tests
# and the demo run on machines that cannot download release binaries. Does nothing when they exist.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "kube-binaries: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
dest="${KUBEAPITEST_HOME:-$HOME/.kubeapitest}/k8s/${K8S_VERSION}-linux-${arch}"

if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" && -x "$dest/kubectl" ]]; then
  echo "kube-binaries: Kubernetes ${K8S_VERSION} and etcd ${ETCD_VERSION} present in $dest"
  exit 0
fi
command -v go >/dev/null || { echo "kube-binaries: Go is needed to build the API server" >&2; exit 1; }

work="$(mktemp -d)"
trap 'kill "${beat:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS="-mod=mod" GOTOOLCHAIN=local

heartbeat() { # a long go build prints nothing; show that it is alive
  local what="$1" start=$SECONDS
  while sleep 30; do echo "kube-binaries: still building $what ($((SECONDS - start)) s)"; done
}

echo "kube-binaries: resolving k8s.io/kubernetes v${K8S_VERSION}"
mod_file="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
# k8s.io/kubernetes replaces its staging modules with local paths, which do not apply when it is a
# dependency: pin each one to the matching published v0.x.y instead.
staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$mod_file")"
minor="0.${K8S_VERSION#1.}"

mkdir -p "$work/k8s" "$work/etcd" "$work/bin"
{
  echo "module kubebinaries"
  echo "go 1.26"
  echo "require k8s.io/kubernetes v${K8S_VERSION}"
  for m in $staging; do echo "replace $m => $m v${minor}"; done
} >"$work/k8s/go.mod"
printf 'module etcdbinaries\ngo 1.26\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$work/etcd/go.mod"

heartbeat "kube-apiserver and kubectl" & beat=$!
echo "kube-binaries: building kube-apiserver and kubectl ${K8S_VERSION} (several minutes on a cold cache)"
# Stamp the release version, as the official build does; /version and kubectl report it.
version_flags="-X k8s.io/component-base/version.gitVersion=v${K8S_VERSION}"
version_flags+=" -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*}"
version_flags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
version_flags+=" -X k8s.io/component-base/version.gitTreeState=clean"
(cd "$work/k8s" && go build -trimpath -ldflags="-s -w ${version_flags}" -o "$work/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
kill "$beat"; beat=""

heartbeat "etcd" & beat=$!
echo "kube-binaries: building etcd ${ETCD_VERSION}"
(cd "$work/etcd" && go build -trimpath -ldflags='-s -w' -o "$work/bin/etcd" go.etcd.io/etcd/server/v3)
kill "$beat"; beat=""

mkdir -p "$dest"
install -m 0755 "$work/bin/kube-apiserver" "$work/bin/kubectl" "$work/bin/etcd" "$dest/"
"$dest/kube-apiserver" --version
"$dest/etcd" --version | head -1
echo "kube-binaries: installed into $dest"
