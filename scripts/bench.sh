#!/usr/bin/env bash
# Runs every benchmark of a build (default: build/) and prints their figures. Not a test.
# conclave-load needs a running server: it gets one short meeting through bench/load/run.sh
# (bench/README.md has the other scenarios); its unit tests are ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
for exe in "$build"/bench/*/*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  case $(basename "$exe") in
    conclave-load | *_tests) continue ;;
  esac
  echo "=== $(basename "$exe")"
  "$exe"
  echo
done
if [ -x "$build/bench/load/conclave-load" ] && [ -x "$build/src/app/conclave" ]; then
  echo "=== conclave-load (meeting of 5)"
  bench/load/run.sh --conclave "$build/src/app/conclave" --load "$build/bench/load/conclave-load" -- \
    --scenario meeting --participants 5 --duration 10
  echo
fi
