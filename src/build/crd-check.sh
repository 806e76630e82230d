#!/usr/bin/env bash
# Fails the build when the committed CRD in crds/ differs from the one generated from the Java types.
# UPDATE_CRDS=true copies the generated file over the committed one instead.
set -euo pipefail
generated="$1" committed="$2"
if [[ "${UPDATE_CRDS:-false}" == "true" || ! -f "$committed" && "${CI:-false}" != "true" ]]; then
  cp "$generated" "$committed"
  echo "crd-check: wrote $committed"
  exit 0
fi
if ! diff -u "$committed" "$generated"; then
  echo "crd-check: $committed is out of date with the Java types; run UPDATE_CRDS=true ./mvnw process-classes and commit it" >&2
  exit 1
fi
echo "crd-check: $committed matches the generated CRD"
