#!/usr/bin/env bash
# Every Conclave test suite, as `make test` and CI run them:
#   the project's own checks first (scripts/lint.sh: clang-format, clang-tidy on the changed C++
#   files, ESLint and Prettier), then
#   C++ unit and integration tests under ASan+UBSan (build-asan), the multi-threaded ones (media
#   worker, event loop, the server binary) under TSan (build-tsan), fuzz targets (short runs over
#   their corpus, build-fuzz), web unit tests (Vitest), browser end-to-end tests (Debian's
#   Chromium via playwright-core, against the plain build in build/).
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

configure() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCONCLAVE_LAYERS= -DCONCLAVE_WERROR=$werror -DCONCLAVE_FUZZ=OFF "$@" >/dev/null
}

# Sanitizer builds compile at -O1 with line tables only: half the compile time of -O2 -g, and
# reports still name file and line.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1")

# Runs ctest in build dir $1 (further arguments go to ctest) with sanitizer options that make
# every finding fatal. ASan, LSan and TSan reports go to files (log_path) rather than stderr, so
# that findings in child processes (the server binary the integration tests start, whose stderr
# is a log file the test deletes) are caught too; the integration tests copy a server log that
# holds a UBSan report (GCC's UBSan ignores log_path) to the same folder. Any report file there
# fails the suite and is printed.
sanitized_ctest() {
  local dir=$1
  shift
  local logs=$root/$dir/sanitizer-reports
  local supp=$root/tests/sanitizers
  rm -rf "$logs" && mkdir -p "$logs"
  local common="halt_on_error=1:print_stacktrace=1:log_path=$logs/report:log_exe_name=1"
  local status=0
  ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1" \
    LSAN_OPTIONS="suppressions=$supp/lsan.supp" \
    UBSAN_OPTIONS="$common" \
    TSAN_OPTIONS="$common:second_deadlock_stack=1:suppressions=$supp/tsan.supp" \
    CONCLAVE_SANITIZER_REPORTS="$logs" \
    ctest --test-dir "$dir" --output-on-failure --timeout 600 -j2 "$@" || status=1
  if compgen -G "$logs/*" >/dev/null; then
    echo "sanitizer reports:"
    for f in "$logs"/*; do
      echo "--- $f"
      cat "$f"
    done
    status=1
  fi
  return $status
}

# Every C++ test (unit, integration against the real binary, interop) in an ASan+UBSan build.
asan_tests() {
  configure build-asan -DCONCLAVE_SANITIZE=address,undefined "${sanitizer_flags[@]}" &&
    ninja -C build-asan -j2 &&
    sanitized_ctest build-asan
}

# The tests with more than one thread: the media worker, the event loop, the media room (the
# test thread posts to a worker) and the server binary (which runs signaling and media workers
# on their own threads), in a TSan build.
tsan_targets=(net_tests sfu_tests conference_tests integration_tests)
tsan_tests() {
  local labels
  labels=$(IFS='|'; echo "${tsan_targets[*]}")
  configure build-tsan -DCONCLAVE_SANITIZE=thread -DCONCLAVE_BENCH=OFF "${sanitizer_flags[@]}" &&
    ninja -C build-tsan -j2 "${tsan_targets[@]}" &&
    sanitized_ctest build-tsan -L "^($labels)\$"
}

fuzz_tests() {
  # Every layer is configured with clang, but only the fuzz targets (and what they link) are built.
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCONCLAVE_FUZZ=ON -DCONCLAVE_TESTS=OFF \
    -DCONCLAVE_BENCH=OFF -DCONCLAVE_LAYERS= "${sanitizer_flags[@]}" >/dev/null || return 1
  local targets
  targets=$(ninja -C build-fuzz -t targets all | sed -n 's/^\(fuzz_[a-z0-9_]*\): phony$/\1/p')
  [ -n "$targets" ] || { echo "no fuzz targets found"; return 1; }
  # shellcheck disable=SC2086
  ninja -C build-fuzz -j2 $targets &&
    ctest --test-dir build-fuzz -L fuzz --output-on-failure -j2
}

web_unit_tests() {
  (cd web && npm run --silent typecheck && npm run --silent test && npm run --silent check-bundle &&
    npm run --silent check-reproducible)
}

# The browser tests run the plain (unsanitized, optimised) server binary, inside the network lab
# (scripts/e2e-lab.sh): a namespace of their own where the server has a non-loopback address.
web_e2e_tests() {
  configure build -DCONCLAVE_SANITIZE=OFF && ninja -C build -j2 conclave &&
    (cd web && npm run --silent build &&
      CONCLAVE_BIN="$root/build/src/app/conclave" ../scripts/e2e-lab.sh npm run --silent e2e)
}

suite "lint: clang-format, clang-tidy, ESLint, Prettier" bash scripts/lint.sh
suite "C++ unit and integration tests (ASan+UBSan)" asan_tests
suite "C++ multi-threaded tests: media worker, event loop, server (TSan)" tsan_tests
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
