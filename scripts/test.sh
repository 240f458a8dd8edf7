#!/usr/bin/env bash
# Every Conclave test suite, as `make test` and CI run them:
#   C++ unit and integration tests (ctest), fuzz targets (short runs over their corpus),
#   web unit tests (Vitest), browser end-to-end tests (Debian's Chromium via playwright-core).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh test || { echo "installing dependencies failed"; exit 1; }

werror=OFF
[ -n "${CI:-}" ] && werror=ON
passed=0
failed=0
failed_names=()

suite() {
  local name=$1
  shift
  echo
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

cpp_tests() {
  cmake -S . -B build -G Ninja -DCONCLAVE_LAYERS= -DCONCLAVE_WERROR=$werror -DCONCLAVE_FUZZ=OFF >/dev/null &&
    ninja -C build &&
    ctest --test-dir build --output-on-failure --timeout 300 -j2
}

fuzz_tests() {
  # Every layer is configured with clang, but only the fuzz targets (and what they link) are built.
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCONCLAVE_FUZZ=ON -DCONCLAVE_TESTS=OFF \
    -DCONCLAVE_BENCH=OFF -DCONCLAVE_LAYERS= >/dev/null || return 1
  local targets
  targets=$(ninja -C build-fuzz -t targets all | sed -n 's/^\(fuzz_[a-z0-9_]*\): phony$/\1/p')
  [ -n "$targets" ] || { echo "no fuzz targets found"; return 1; }
  # shellcheck disable=SC2086
  ninja -C build-fuzz $targets &&
    ctest --test-dir build-fuzz -L fuzz --output-on-failure -j2
}

web_unit_tests() {
  (cd web && npm run --silent typecheck && npm run --silent test)
}

web_e2e_tests() {
  (cd web && npm run --silent build && CONCLAVE_BIN="$root/build/src/app/conclave" npm run --silent e2e)
}

suite "C++ unit and integration tests" cpp_tests
if compgen -G "fuzz/*/CMakeLists.txt" >/dev/null; then
  suite "fuzz targets" fuzz_tests
fi
if [ -f web/package.json ]; then
  suite "web unit tests" web_unit_tests
  suite "browser end-to-end tests" web_e2e_tests
fi

echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
