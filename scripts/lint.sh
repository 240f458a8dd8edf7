#!/usr/bin/env bash
# The project's own checks, as `make lint` and `make test` run them:
#   clang-format   every C++ file under src/ tests/ bench/ fuzz/ must be formatted (.clang-format);
#   clang-tidy     .clang-tidy's checks over the compile database of build-lint (configured here,
#                  nothing is compiled), on the C++ files changed since the base below, or on
#                  every file with --all (the whole tree takes about half an hour on two cores);
#   layers         scripts/check-layers.py: no layer under src/ includes one it may not use
#                  (the table in docs/architecture.md);
#   web            `npm run lint` in web/ (ESLint and Prettier), when web/package.json has it.
#
#   scripts/lint.sh [--all] [--base REV]
#   scripts/lint.sh --format     formats instead of checking (clang-format -i, `npm run format`)
# The changed files are those that differ from REV (default: the merge-base with origin/main
# when that is not HEAD itself, otherwise the commit before HEAD, which in a fresh clone of main
# is the last merge), plus uncommitted and untracked ones. A changed header brings in the .cpp
# files that include it. `make format` fixes what the clang-format step reports.
set -uo pipefail
cd "$(dirname "$0")/.."

all=false
format=false
base=""
while [ $# -gt 0 ]; do
  case $1 in
    --all) all=true ;;
    --base) base=$2; shift ;;
    --format) format=true ;;
    *) echo "usage: scripts/lint.sh [--all] [--base REV] | --format" >&2; exit 2 ;;
  esac
  shift
done

# Formatting differs between clang-format versions: use Debian 12's 14 when it is there.
clang_format=$(command -v clang-format-14 || command -v clang-format) || { echo "clang-format is missing (scripts/install-deps.sh lint)"; exit 1; }
clang_tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || { echo "clang-tidy is missing (scripts/install-deps.sh lint)"; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)

# C++ files of the tree: tracked and untracked-but-not-ignored ones that exist.
cxx_files() {
  git ls-files --cached --others --exclude-standard -- 'src/*.h' 'src/*.cpp' 'tests/*.h' 'tests/*.cpp' \
    'bench/*.h' 'bench/*.cpp' 'fuzz/*.h' 'fuzz/*.cpp' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done
}

status=0

format_check() {
  local start=$SECONDS
  local differ
  # One clang-format per file, two at a time; a file whose formatted text differs is printed.
  differ=$(cxx_files | xargs -r -P "$jobs" -I{} sh -c '"$1" --style=file "$2" | cmp -s - "$2" || echo "$2"' _ "$clang_format" {} | sort)
  if [ -n "$differ" ]; then
    echo "clang-format: these files are not formatted (run make format):"
    echo "$differ" | sed 's/^/  /'
    return 1
  fi
  echo "clang-format: $(cxx_files | wc -l) files formatted ($((SECONDS - start)) s)"
}

# The compile database: every layer, test, benchmark and fuzz target, configured with clang (the
# fuzz targets need it, and clang-tidy then sees the flags its own compiler would).
compile_database() {
  local log
  log=$(mktemp)
  CC=clang CXX=clang++ cmake -S . -B build-lint -G Ninja -DCONCLAVE_LAYERS= -DCONCLAVE_FUZZ=ON \
    -DCONCLAVE_TESTS=ON -DCONCLAVE_BENCH=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$log" 2>&1 || {
    cat "$log"
    rm -f "$log"
    return 1
  }
  rm -f "$log"
}

# The .cpp files of the compile database, relative to the repository.
database_sources() {
  sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' build-lint/compile_commands.json | sed "s|^$(pwd)/||" | sort -u
}

changed_files() {
  if [ -z "$base" ]; then
    if git rev-parse -q --verify origin/main >/dev/null; then
      base=$(git merge-base HEAD origin/main)
    fi
    if [ -z "$base" ] || [ "$base" = "$(git rev-parse HEAD)" ]; then
      base=$(git rev-parse -q --verify HEAD~1) || return 1
    fi
  fi
  echo "clang-tidy: files changed since $(git rev-parse --short "$base")" >&2
  # A file whose only change is whitespace (as after `make format`) is not checked again: the
  # findings cannot have changed, and a tree-wide format commit would otherwise cost a full run.
  { git diff --name-only --diff-filter=d "$base" -- ; git ls-files --others --exclude-standard; } | sort -u |
    while read -r f; do
      if git cat-file -e "$base:$f" 2>/dev/null &&
        [ "$(git show "$base:$f" | tr -d ' \t\n')" = "$(tr -d ' \t\n' <"$f")" ]; then
        continue
      fi
      echo "$f"
    done
}

tidy_check() {
  local start=$SECONDS
  compile_database || return 1
  local sources files
  sources=$(database_sources)
  if $all; then
    files=$sources
  elif ! changed=$(changed_files); then
    echo "clang-tidy: no base commit to compare with; checking every file"
    files=$sources
  else
    files=$(
      {
        grep -Fxf <(echo "$changed") <<<"$sources"
        # A changed header: the sources that include it by its path under src/ or tests/, or
        # (for headers next to their tests) by its file name.
        grep -E '\.h$' <<<"$changed" | while read -r h; do
          local rel=${h#src/}
          rel=${rel#tests/}
          grep -lE "#include \"($rel|$(basename "$h"))\"" $sources 2>/dev/null
        done
      } | sort -u
    )
  fi
  if [ -z "$files" ]; then
    echo "clang-tidy: no C++ file changed"
    return 0
  fi
  echo "clang-tidy: $(wc -l <<<"$files") files, $jobs at a time"
  # .clang-tidy makes every finding an error, so clang-tidy exits non-zero on one.
  local out
  out=$(mktemp)
  echo "$files" | xargs -r -P "$jobs" -n 1 "$clang_tidy" -p build-lint --quiet >"$out" 2>&1
  local rc=$?
  # Drop clang-tidy's "N warnings generated" lines: those are suppressed findings in system headers.
  grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' "$out"
  rm -f "$out"
  echo "clang-tidy: $((SECONDS - start)) s"
  return $rc
}

web_lint() {
  [ -f web/package.json ] || return 0
  if ! has_web_script lint; then
    echo "web: package.json has no lint script yet"
    return 0
  fi
  local start=$SECONDS
  (cd web && npm run --silent lint) || return 1
  echo "web: ESLint and Prettier clean ($((SECONDS - start)) s)"
}

has_web_script() {
  [ -f web/package.json ] && (cd web && node -e "process.exit(require('./package.json').scripts?.$1 ? 0 : 1)")
}

if $format; then
  cxx_files | xargs -r -P "$jobs" -n 16 "$clang_format" --style=file -i || exit 1
  if has_web_script format; then (cd web && npm run --silent format) || exit 1; fi
  exit 0
fi

format_check || status=1
if python3 scripts/check-layers.py; then echo "layers: every include follows docs/architecture.md"; else echo "layers: includes above cross the layer table"; status=1; fi
tidy_check || { echo "clang-tidy: findings above"; status=1; }
web_lint || { echo "web: lint failed"; status=1; }
exit $status
