#!/usr/bin/env bash
# Gateway fault soak: one campaign with delivery receipts against a primary gateway that misbehaves in every way
# gateway-sim can, with a 10-second outage in the middle, and a healthy backup; every message must end delivered,
# failed with the gateway's reason, or expired, none lost and none sent twice.
#
#   scripts/soak-faults.sh [ROWS] [SEED]     (defaults: 20000 rows, a random seed)
#
# The primary answers 10 % of requests 503, 5 % 429 with Retry-After: 1, never answers 2 % (the request times out
# after 2 s), resets the connection of 1 % after taking the message, and is down (503) from 5 to 15 s after it
# starts. Both gateways honour idempotency keys and post receipts to `send --receipts`: 93 % delivered, 5 % failed,
# the rest expired, 0.1–2.1 s after the message, so out of order, and 20 % of them twice. The carriers are
# throttled to 900 messages a second in all, so that the campaign runs through the outage, and the circuit
# breaker's cool-down is 2–4 s, so that traffic comes back to the primary soon after.
#
# Checks, from both simulators' /stats, `sparrow report --format json` and the journal:
#   distinct keys at the gateways = accepted, and accepted + refused = rows   (none lost)
#   messages at the gateways = distinct keys                                 (none sent twice)
#   delivered + failed = rows, pending = 0   (every message ended: by its receipt, or refused with the gateway's
#                                             reason, e.g. 503 through all its attempts during the outage)
#   the backup took messages (failover), and the primary took new ones after its outage (recovery)
#   no message took more attempts than the retry policy allows
#   Retry-After honoured: from the primary's log of every request, each key answered 429 comes back to the primary
#                         no sooner than Retry-After (1 s) later (the minimum and median gaps are printed)
# Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
seed=${2:-$RANDOM$RANDOM}
for value in "$rows" "$seed"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [ROWS] [SEED]" >&2; exit 2; }
done
max_attempts=8

work=$(mktemp -d /tmp/soak-faults.XXXXXX)
source scripts/lib/bench.sh
pids=()
stop_simulators() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
bench_on_exit stop_simulators

bench_build_sparrow
primary_port=$(bench_free_port)
backup_port=$(bench_free_port)
webhook_port=$(bench_free_port)

python3 - "$work" "$rows" <<'PY'
import sys
work, rows = sys.argv[1], int(sys.argv[2])
with open(f"{work}/recipients.csv", "w") as out:
    out.write("phone,name\n")
    for i in range(rows):
        out.write(f"{('138', '186', '189')[i % 3]}{i // 3:08d},客户{i}\n")
PY
cat >"$work/sparrow.yaml" <<CONF
store: store.sqlite
default_region: CN
quiet_hours: off
circuit_breaker: { failures: 5, cool_down: 2s, max_cool_down: 4s }
carriers:
  - { id: china-mobile, country_code: 86, prefixes: [138], rate: 300, burst: 30 }
  - { id: china-unicom, country_code: 86, prefixes: [186], rate: 300, burst: 30 }
  - { id: china-telecom, country_code: 86, prefixes: [189], rate: 300, burst: 30 }
gateways:
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: http://127.0.0.1:$primary_port/v1/sms
    auth: { type: bearer, token: soak-token }
    timeout: 2s
    retry: { max_attempts: $max_attempts, base_delay: 50ms, max_delay: 1s }
    backup: backup
  - include: $PWD/config/gateways/generic-json.yaml
    name: backup
    url: http://127.0.0.1:$backup_port/v1/sms
    auth: { type: bearer, token: soak-token }
    timeout: 2s
    retry: { max_attempts: $max_attempts, base_delay: 50ms, max_delay: 1s }
receipts:
  listen: 127.0.0.1:$webhook_port
  token: soak-dlr-token
CONF

receipts=(--receipts-url "http://127.0.0.1:$webhook_port/dlr" --receipt-token soak-dlr-token --receipt-delay-ms 100
  --receipt-jitter-ms 2000 --receipt-mix 0.93,0.05 --receipt-duplicates 0.2)
start_sim() {  # start_sim NAME PORT OPTION…
  local name=$1 port=$2
  shift 2
  "$sim" --listen "127.0.0.1:$port" --seed "$seed" "${receipts[@]}" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && return 0; sleep 0.1; done
  echo "$name did not start" >&2
  cat "$work/$name.log" >&2
  exit 1
}
start_sim backup "$backup_port"
start_sim primary "$primary_port" --fail-503 0.10 --fail-429 0.05 --retry-after 1 --never-answer 0.02 \
  --reset-connection 0.01 --outage 5000:10000 --arrival-log "$work/primary-arrivals.log" \
  --request-log "$work/primary-requests.log"

echo "soak-faults: $rows rows, seed $seed, $(git rev-parse --short HEAD), $(nproc) cores"
started=$(date +%s)
status=0
(cd "$work" && "$sparrow" send -c sparrow.yaml --campaign soak --text '{{name}}您好，您的订单已发货' --receipts \
  --receipts-wait 15 --rejects rejects.jsonl <recipients.csv >send.log 2>&1) || status=$?
elapsed=$(($(date +%s) - started))
((status == 0)) || { echo "sparrow send exited $status" >&2; tail -n 30 "$work/send.log" >&2; exit 1; }

primary=$(curl -sf --noproxy '*' "http://127.0.0.1:$primary_port/stats")
backup=$(curl -sf --noproxy '*' "http://127.0.0.1:$backup_port/stats")
report=$(cd "$work" && "$sparrow" report -c sparrow.yaml --campaign soak --format json 2>/dev/null)
python3 - "$rows" "$elapsed" "$max_attempts" "$primary" "$backup" "$report" "$work" <<'PY'
import json, sqlite3, statistics, sys
rows, elapsed, max_attempts = map(int, sys.argv[1:4])
primary, backup, report = json.loads(sys.argv[4]), json.loads(sys.argv[5]), json.loads(sys.argv[6])
work = sys.argv[7]
total, gateways = report["total"], report["gateways"]
db = sqlite3.connect(f"{work}/store.sqlite")
most_attempts = db.execute("SELECT MAX(attempts) FROM message").fetchone()[0]
by_state = dict(db.execute("SELECT state, COUNT(*) FROM message GROUP BY state").fetchall())
arrivals = [int(line.split()[0]) for line in open(f"{work}/primary-arrivals.log")]
after_outage = sum(1 for t in arrivals if t > 15_000_000)
# For each 429, the gap to the same key's next request at the primary (a key retried at the backup has none).
throttled_at, gaps = {}, []
for line in open(f"{work}/primary-requests.log"):
    at, key, answer = line.split()
    if key in throttled_at:
        gaps.append(int(at) - throttled_at.pop(key))
    if answer == "429":
        throttled_at[key] = int(at)
messages = primary["messages"] + backup["messages"]
keys = primary["distinct_keys"] + backup["distinct_keys"]
print(f"summary: {rows} rows in {elapsed} s")
print(f"  primary: {primary['messages']} messages, {primary['faults']} faults injected, "
      f"{primary['duplicates']} repeated keys; {after_outage} new messages after its outage")
print(f"  backup:  {backup['messages']} messages, {backup['duplicates']} repeated keys")
print(f"  journal: {by_state}; at most {most_attempts} attempts for a message (policy: {max_attempts})")
print(f"  report:  accepted {total['accepted']}, delivered {total['delivered']}, failed {total['failed']}, "
      f"pending {total['pending']}, unknown {total['unknown']}")
reasons = db.execute("SELECT error, COUNT(*) FROM message WHERE state = 'failed' GROUP BY error").fetchall()
print(f"  refused at submit: {reasons}")
for line in open(f"{work}/send.log"):
    if "ended unknown" in line:  # settled by a second pass under their keys
        print(f"  {line.strip()}")
if gaps:
    print(f"  Retry-After: {len(gaps)} keys answered 429 came back after at least {min(gaps) / 1e6:.3f} s "
          f"(median {statistics.median(gaps) / 1e6:.3f} s); {len(throttled_at)} did not come back to the primary")
refused = by_state.get("failed", 0)  # never taken by a gateway: refused, or out of attempts
checks = {
    "none lost": keys == total["accepted"] and total["accepted"] + refused == rows,
    "none sent twice": messages == keys,
    "every message ended": total["delivered"] + total["failed"] == rows and total["pending"] == 0,
    "failed over to the backup": backup["messages"] > 0,
    "back on the primary after the outage": after_outage > 0,
    "retries bounded": most_attempts <= max_attempts,
    "Retry-After honoured": len(gaps) > 0 and min(gaps) >= 1_000_000,
}
for name, ok in checks.items():
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
