#!/usr/bin/env bash
# Phone parsing: Sparrow's generated tables against Debian's libphonenumber (C++), same inputs, same run.
#   scripts/bench-phone.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-1000000}
dpkg-query -W -f='${Status}' libphonenumber-dev 2>/dev/null | grep -q "install ok installed" || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libphonenumber-dev
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g++ -O2 -std=c++17 Benchmarks/Peers/phone-libphonenumber.cc -o "$work/phone-libphonenumber" -lphonenumber
"$work/phone-libphonenumber" "$iterations"
cd Benchmarks && swift package --disable-sandbox benchmark --filter "Phone.*" --no-progress --format markdown 2>/dev/null \
  | grep -E "^###|wall clock|Malloc"
