#!/usr/bin/env bash
# Longer fuzzing than `make test` does: `make fuzz` or scripts/fuzz.sh [target...]
#   FUZZ_SECONDS  how long each target runs (default 300)
# Builds the libFuzzer targets in build-fuzz (clang), then runs each one over its committed corpus
# plus a scratch corpus in the build tree. Crash inputs land in fuzz/artifacts/ (not committed):
# once the bug is fixed, copy each into the target's corpus/ as a regression case, since the fuzz
# suite of `make test` replays the whole corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-300}

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCONCLAVE_FUZZ=ON -DCONCLAVE_TESTS=OFF \
  -DCONCLAVE_BENCH=OFF -DCONCLAVE_LAYERS= -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ninja -C build-fuzz -t targets all | sed -n 's/^\(fuzz_[a-z0-9_]*\): phony$/\1/p')
fi
ninja -C build-fuzz "${targets[@]}"
mkdir -p fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  bin=$(find build-fuzz/fuzz -type f -name "$t" -perm -u+x | head -n1)
  [ -n "$bin" ] || { echo "no fuzz target $t"; exit 1; }
  # build-fuzz/fuzz/<folder>/<target> has its corpus in fuzz/<folder>/corpus/<name>/.
  folder=$(basename "$(dirname "$bin")")
  corpus=$(find "fuzz/$folder/corpus" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1)
  work=build-fuzz/long-$t
  mkdir -p "$work"
  echo "=== $t for ${seconds} s (corpus: ${corpus:-none})"
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -artifact_prefix=fuzz/artifacts/ \
    "$work" ${corpus:+"$corpus"} || status=1
done
exit $status
