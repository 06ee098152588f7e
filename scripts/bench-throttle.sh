#!/usr/bin/env bash
# Measures the rate each carrier's messages reach the gateway against the configured rate, for three carriers
# throttled at once: `sparrow send` to `sparrow-gateway-sim`, which logs every new message's arrival time.
#
#   scripts/bench-throttle.sh [SECONDS]     (default 30: each carrier is fed that many seconds of messages)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bin=.build/release/sparrow
sim=.build/release/sparrow-gateway-sim
[ -x "$bin" ] || swift build -c release --product sparrow >&2
[ -x "$sim" ] || swift build -c release --product sparrow-gateway-sim >&2
work=$(mktemp -d)
sim_pid=
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# carrier id, number prefix, rate (messages/s), burst
carriers="china-mobile 1380 300 10
china-unicom 1300 200 10
china-telecom 1330 100 10"

"$sim" --listen 127.0.0.1:0 --arrival-log "$work/arrivals" > "$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*listening on //p' "$work/sim.out")

{
  echo "store: $work/state.sqlite"
  echo "quiet_hours: off"
  echo "carriers:"
  echo "  overrides:"
  while read -r id _ rate burst; do echo "    $id: { rate: $rate, burst: $burst }"; done <<< "$carriers"
  echo "gateways:"
  echo "  - { include: $PWD/config/gateways/generic-json.yaml, name: primary, url: \"$base/v1/sms\", max_in_flight: 64, auth: { type: bearer, token: bench } }"
} > "$work/sparrow.yaml"

# Rows interleaved in proportion to the rates, so that every carrier is busy for the whole run.
python3 - "$seconds" "$carriers" > "$work/recipients.csv" <<'PY'
import sys
seconds, carriers = int(sys.argv[1]), [line.split() for line in sys.argv[2].splitlines()]
print("phone,name")
counters = {prefix: 0 for _, prefix, _, _ in carriers}
for tick in range(seconds * 10):
    for _, prefix, rate, _ in carriers:
        for _ in range(int(rate) // 10):
            print(f"{prefix}{counters[prefix]:07d},客户")
            counters[prefix] += 1
PY

start=$(date +%s.%N)
"$bin" send --config "$work/sparrow.yaml" --text "{{name}}，您好" --now 2026-11-22T04:00:00Z \
  --campaign throttle --rejects "$work/rejects.jsonl" < "$work/recipients.csv" 2> "$work/send.err"
end=$(date +%s.%N)

python3 - "$work/arrivals" "$carriers" "$start" "$end" <<'PY'
import sys
arrivals, carriers = sys.argv[1], [line.split() for line in sys.argv[2].splitlines()]
times = {prefix: [] for _, prefix, _, _ in carriers}
for line in open(arrivals):
    micros, number = line.split()
    for prefix in times:
        if number.startswith("+86" + prefix):
            times[prefix].append(int(micros) / 1e6)
print(f"send took {float(sys.argv[4]) - float(sys.argv[3]):.1f} s")
print(f"{'carrier':15} {'messages':>8} {'configured/s':>12} {'achieved/s':>10} {'deviation':>9}")
for carrier, prefix, rate, burst in carriers:
    t = sorted(times[prefix])
    burst = int(burst)
    # After the first `burst` messages, message k goes at (k - burst + 1) / rate.
    achieved = (len(t) - 1 - burst) / (t[-1] - t[burst])
    print(f"{carrier:15} {len(t):8d} {float(rate):12.1f} {achieved:10.2f} {100 * (achieved / float(rate) - 1):+8.2f}%")
PY
