#!/usr/bin/env bash
# Runs every benchmark of a build (default: build/) and prints their figures. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
for exe in "$build"/bench/*/*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  echo "=== $(basename "$exe")"
  "$exe"
  echo
done
