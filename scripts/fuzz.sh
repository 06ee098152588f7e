#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes with libFuzzer and AddressSanitizer: the recipient reader (CSV and
# JSON Lines), the template compiler, the configuration loader, the phone parser, the webhook's receipt and reply
# parsers and the order reader (targets in Fuzz/, every Swift module built with -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh [RUNS] [TARGET…]     (defaults: 1000000 runs of each of the six targets)
#
# Each target starts from its corpus in Tests/Fuzz/TARGET/ and, at the end, merges back the inputs that reached new
# code, so the committed corpus grows only with coverage. A crash, an assertion, a memory error, a hang over 10 s or
# more than 2 GiB of memory stops the target and leaves the input in Fuzz/artifacts/; the script then exits 1.
# Every finding becomes a regression test (the input, in the parser's own test suite).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS] [TARGET…]" >&2; exit 2; }
shift || true
targets=("$@")
((${#targets[@]} > 0)) || targets=(FuzzRecipients FuzzTemplate FuzzConfig FuzzPhone FuzzWebhook FuzzOrders)

echo "building the fuzz targets (libFuzzer + AddressSanitizer)" >&2
swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol" >&2
bin=$(swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address --show-bin-path)

work=$(mktemp -d /tmp/fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p Fuzz/artifacts
failed=0
printf "%-16s %10s %10s %8s %8s  %s\n" target runs seconds exec/s corpus result
for target in "${targets[@]}"; do
  corpus=Tests/Fuzz/$target
  [[ -d $corpus && -x $bin/$target ]] || { echo "no target $target" >&2; exit 2; }
  mkdir -p "$work/$target"
  start=$(date +%s)
  status=0
  # LeakSanitizer is off: the Swift runtime keeps metadata and caches for the process's life by design.
  ASAN_OPTIONS=detect_leaks=0 "$bin/$target" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="Fuzz/artifacts/$target-" "$work/$target" "$corpus" \
    >"$work/$target.log" 2>&1 || status=$?
  seconds=$(($(date +%s) - start))
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$' || echo 0)
  if ((status == 0)); then
    ASAN_OPTIONS=detect_leaks=0 "$bin/$target" -merge=1 "$corpus" "$work/$target" >>"$work/$target.log" 2>&1
    result=ok
  else
    result="FAILED (exit $status): $(grep -m1 -E 'ERROR|Fatal error|deadly signal|timeout|out-of-memory' "$work/$target.log" || true)"
    failed=1
    tail -n 40 "$work/$target.log" >&2
  fi
  printf "%-16s %10s %10s %8s %8s  %s\n" "$target" "$done_runs" "$seconds" "$rate" "$(ls "$corpus" | wc -l)" "$result"
done
exit "$failed"
