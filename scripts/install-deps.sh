#!/usr/bin/env bash
# Installs what Conclave needs on Debian 12, and nothing that is already there.
#   scripts/install-deps.sh run    packages to build and run the server and the web client
#   scripts/install-deps.sh lint   also what `make lint` needs (clang-format, clang-tidy, and the
#                                  test libraries, so that the compile database covers the tests;
#                                  libsrtp2 is one: the SRTP tests' oracle, not part of the server)
#   scripts/install-deps.sh test   also what the test suites need (Chromium, aiortc, clang, ...)
#   scripts/install-deps.sh bench  the lint packages (the benchmarks use libsrtp2 and Google
#                                  Benchmark) and Janus, which conclave-load compares Conclave with
# Idempotent and quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}

run_packages=(
  cmake ninja-build g++ make pkg-config
  libboost-dev libssl-dev nlohmann-json3-dev libtomlplusplus-dev
  libspdlog-dev libfmt-dev libsqlite3-dev libsodium-dev
)
# Debian 12's clang-format and clang-tidy are version 14, the version .clang-format is checked with.
lint_packages=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev libsrtp2-dev
  clang clang-format clang-tidy
)
test_packages=(
  libclang-rt-14-dev
  chromium python3-aiortc python3-websockets iproute2 openssl
  firefox-esr coturn nftables iptables
)
bench_packages=(
  janus iproute2
)

packages=("${run_packages[@]}")
case $mode in
  lint) packages+=("${lint_packages[@]}") ;;
  test) packages+=("${lint_packages[@]}" "${test_packages[@]}") ;;
  bench) packages+=("${lint_packages[@]}" "${bench_packages[@]}") ;;
esac

# Node.js 20 or newer is needed by the web build; Debian's nodejs only if there is no node.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Conclave's web build needs Node.js 20 or newer; this machine has $(node --version)." >&2
  exit 1
fi

# npm packages from the committed lock file, only when the lock file changed.
if [ -f web/package-lock.json ]; then
  stamp=web/node_modules/.conclave-installed
  if [ ! -f "$stamp" ] || [ web/package-lock.json -nt "$stamp" ]; then
    echo "Installing npm packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
fi
