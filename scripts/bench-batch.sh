#!/usr/bin/env bash
# `sparrow send` to gateway-sim one message a request and in batches of 200 numbers, in turns (S B S B …): each
# mode's median rate, CPU per message and peak RSS, and the batch's ratio to the single requests.
#
#   scripts/bench-batch.sh [N] [ROUNDS]     (defaults: 200000 messages, 3 rounds)
#
# Both runs send one text (so that batches fill) to N numbers over three unthrottled carriers, quiet hours off, the
# SQLite journal with durable commits, 16 requests in flight; each run has a fresh gateway-sim and a fresh store.
# The rate is N over the `sparrow send` process's wall time, reading and journaling included; CPU is its user and
# system time. gateway-sim shares the box's cores with Sparrow: it is part of what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000}
rounds=${2:-3}
for value in "$count" "$rounds"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [N] [ROUNDS]" >&2; exit 2; }
done

work=$(mktemp -d /tmp/bench-batch.XXXXXX)
source scripts/lib/bench.sh
sim_pid=""
stop_sim() { [[ -n $sim_pid ]] && { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }; }
bench_on_exit stop_sim
bench_build_sparrow

python3 - "$work/recipients.csv" "$count" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    out.write("phone\n")
    for i in range(count):
        out.write(f"{('138', '186', '189')[i % 3]}{i // 3:08d}\n")
PY
port=$(bench_free_port)
gateway_single="{ name: g, url: \"http://127.0.0.1:$port/v1/sms\", format: json, max_in_flight: 16 }"
gateway_batch="{ name: g, url: \"http://127.0.0.1:$port/v1/batch\", format: json, fields: { text: \"{{text}}\" },
      max_in_flight: 16, batch: { max: 200, list: to, results: { path: results, number: to,
      success_field: { path: status, equals: ok }, message_id: message_id } } }"

# run MODE ROUND: one `sparrow send`; prints "MODE RATE CPU_US_PER_MESSAGE RSS_KIB"
run() {
  local mode=$1 round=$2 gateway
  [[ $mode == batch ]] && gateway=$gateway_batch || gateway=$gateway_single
  cat >"$work/$mode-$round.yaml" <<CONF
store: ./$mode-$round.sqlite
quiet_hours: off
carriers:
  - { id: china-mobile, country_code: 86, prefixes: [138] }
  - { id: china-unicom, country_code: 86, prefixes: [186] }
  - { id: china-telecom, country_code: 86, prefixes: [189] }
gateways:
  - $gateway
CONF
  "$sim" --listen "127.0.0.1:$port" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && break; sleep 0.1; done
  bench_wait_for_quiet
  (cd "$work" && /usr/bin/time -f "%e %U %S %M" -o "$mode-$round.time" "$sparrow" send -c "$mode-$round.yaml" \
    --text '双12 全场五折，今晚截止' --now 2026-12-06T04:00:00Z <recipients.csv >/dev/null 2>"$mode-$round.err")
  local messages
  messages=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')
  stop_sim
  sim_pid=""
  [[ $messages == "$count" ]] || { echo "$mode round $round: the gateway took $messages of $count" >&2; exit 1; }
  read -r wall user system rss <"$work/$mode-$round.time"
  python3 -c "print('$mode', round($count / $wall), round(($user + $system) * 1e6 / $count, 1), $rss)"
}

echo "bench-batch: $count messages, $rounds rounds, $(git rev-parse --short HEAD), $(nproc) cores"
results=()
for round in $(seq "$rounds"); do
  for mode in single batch; do
    line=$(run "$mode" "$round")
    echo "  round $round: $line"
    results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    mode, rate, cpu, rss = line.split()
    runs.setdefault(mode, []).append((int(rate), float(cpu), int(rss)))
median = {mode: [statistics.median(column) for column in zip(*values)] for mode, values in runs.items()}
for mode in ("single", "batch"):
    rate, cpu, rss = median[mode]
    print(f"{mode:>6}: {rate:,.0f} msg/s, {cpu:.1f} µs CPU a message, peak RSS {rss / 1024:.0f} MiB (medians)")
print(f" batch/single: {median['"'"'batch'"'"'][0] / median['"'"'single'"'"'][0]:.2f}× the rate, "
      f"{median['"'"'batch'"'"'][1] / median['"'"'single'"'"'][1]:.2f}× the CPU a message")
'
