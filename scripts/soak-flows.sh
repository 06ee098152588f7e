#!/usr/bin/env bash
# Lifecycle flows over a month of a store's orders, replayed on their own time (`sparrow flows --stdin --replay`)
# with the shipped rules (config/flows/) against gateway-sim honouring idempotency keys:
#   1. an uninterrupted replay into a fresh store;
#   2. the same log into another fresh store, the process killed with SIGKILL at KILLS random moments and started
#      again each time, until a run ends by itself.
# Then it checks that the gateway got the same messages under the same keys, none twice, that the two stores tell the
# same status, and, in the first store, the flows' promises: no unpaid reminder after its order was paid or closed,
# nothing during quiet hours (21:00–08:00 in Shanghai), marketing only 08:00–22:00, no timer left pending.
#
#   scripts/soak-flows.sh [ORDERS] [KILLS] [SEED]      (defaults: 100000 10 1)
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-100000}
kills=${2:-10}
seed=${3:-1}
bin=.build/release/sparrow
sim=.build/release/sparrow-gateway-sim
work=$(mktemp -d /tmp/sparrow-soak-flows.XXXXXX)
sim_pid=
trap 'kill $sim_pid 2>/dev/null || true' EXIT
[ -x "$bin" ] && [ -x "$sim" ] || swift build -c release --product sparrow --product sparrow-gateway-sim >&2

scripts/gen-events.py "$orders" --seed "$seed" --days 30 > "$work/events.jsonl"
echo "== $(wc -l < "$work/events.jsonl") events of $orders orders over 30 days (scripts/gen-events.py, seed $seed)"

start_sim() {  # $1: its request log
  "$sim" --listen 127.0.0.1:0 --request-log "$1" > "$work/sim.out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/sim.out" && break; sleep 0.1; done
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/sim.out" | grep -o '[0-9]*$')
}

configure() {  # $1: name
  cat > "$work/$1.yaml" <<YAML
store: ./$1.sqlite
signature: "【青禾旗舰店】"
optout_suffix: "回T退订"
gateways:
  - { name: primary, url: "http://127.0.0.1:$port/v1/sms", format: json, max_in_flight: 32,
      fields: { to: "{{to}}", text: "{{text}}" }, idempotency: { honoured: true } }
flows: { rules: $PWD/config/flows }
YAML
}

replay() {  # $1: name
  (cd "$work" && "$OLDPWD/$bin" flows -c "$1.yaml" --stdin --replay < events.jsonl > "$1.out" 2> "$1.err")
}

start_sim "$work/clean.requests"
configure clean
begin=$(date +%s.%N)
replay clean
clean_seconds=$(echo "$(date +%s.%N) - $begin" | bc)
clean_stats=$(curl -s "http://127.0.0.1:$port/stats")
kill $sim_pid; wait $sim_pid 2>/dev/null || true
echo "== uninterrupted: ${clean_seconds%.*} s; gateway $clean_stats"

start_sim "$work/crash.requests"
configure crash
runs=0
killed=0
while true; do
  runs=$((runs + 1))
  (cd "$work" && exec "$OLDPWD/$bin" flows -c crash.yaml --stdin --replay < events.jsonl > crash.out 2> crash.err) &
  pid=$!
  if [ "$killed" -lt "$kills" ]; then
    # Spread over about one uninterrupted replay's time, so that the kills land all along the log.
    sleep "$(python3 -c "import random; print(round(random.Random($seed * 100 + $runs).uniform(0.5, 1.6 * $clean_seconds / $kills), 2))")"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); wait "$pid" 2>/dev/null || true; continue; fi
  fi
  wait "$pid"
  break
done
crash_stats=$(curl -s "http://127.0.0.1:$port/stats")
kill $sim_pid; wait $sim_pid 2>/dev/null || true
echo "== killed $killed times, $runs runs; gateway $crash_stats"

(cd "$work" && "$OLDPWD/$bin" flows status -c clean.yaml --format json > clean.status.json)
(cd "$work" && "$OLDPWD/$bin" flows status -c crash.yaml --format json > crash.status.json)
python3 - "$work" "$clean_stats" "$crash_stats" <<'PY'
import json, sqlite3, sys
work, clean, crash = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
failures = []
def check(ok, what):
    if not ok: failures.append(what)

def keys(name):
    with open(f"{work}/{name}.requests") as log:
        return {fields[1] for fields in (line.split() for line in log) if len(fields) >= 3 and fields[1] != "-"}

check(clean["duplicates"] == 0, "the uninterrupted replay repeated a key")
check(crash["messages"] == clean["messages"], f"messages: {crash['messages']} after kills, {clean['messages']} without")
check(crash["distinct_keys"] == clean["distinct_keys"], "distinct keys differ")
check(keys("crash") == keys("clean"), "the keys at the gateway differ")
check(open(f"{work}/crash.status.json").read() == open(f"{work}/clean.status.json").read(), "the statuses differ")

db = sqlite3.connect(f"{work}/clean.sqlite")
local = "(m.sendAt + 8 * 3600) % 86400 / 3600"
def count(sql):
    return db.execute(sql).fetchone()[0]
sent = dict(db.execute("SELECT rule, COUNT(*) FROM flow_timer WHERE state = 'sent' GROUP BY rule").fetchall())
check(count("SELECT COUNT(*) FROM flow_timer WHERE state = 'pending'") == 0, "timers left pending")
check(count(f"SELECT COUNT(*) FROM message m WHERE m.campaignID LIKE 'flow.%' AND ({local} >= 21 OR {local} < 8)") == 0,
      "a message during quiet hours")
check(count(f"""SELECT COUNT(*) FROM message m WHERE m.campaignID IN ('flow.below-threshold', 'flow.repurchase',
          'flow.birthday') AND ({local} >= 22 OR {local} < 8)""") == 0, "marketing outside 08:00-22:00")
# Each order's first payment or close, in a table of the checker's own (the store indexes events by their ids).
db.execute("""CREATE TEMP TABLE settled AS SELECT source, orderID, MIN(at) AS at FROM flow_event
    WHERE kind IN ('paid', 'closed') GROUP BY source, orderID""")
db.execute("CREATE INDEX temp.settled_order ON settled (source, orderID)")
paid_before = count("""
    SELECT COUNT(*) FROM flow_timer t JOIN message m ON m.id = t.messageID
    JOIN settled e ON e.source = t.source AND e.orderID = t.orderID
    WHERE t.rule IN ('unpaid-first', 'unpaid-second') AND e.at < m.sendAt""")
check(paid_before == 0, f"{paid_before} unpaid reminders after their order was paid or closed")
late = count("""
    SELECT COUNT(*) FROM flow_timer t JOIN message m ON m.id = t.messageID
    JOIN flow_order o ON o.source = t.source AND o.id = t.orderID
    WHERE t.rule IN ('unpaid-first', 'unpaid-second')
    AND m.sendAt >= COALESCE(unixepoch(json_extract(o.fields, '$.closes_at')), o.firstAt + 86400)""")
check(late == 0, f"{late} unpaid reminders at or after their order's close")
moved = count("""
    SELECT COUNT(*) FROM flow_timer t JOIN message m ON m.id = t.messageID
    WHERE t.rule = 'unpaid-first' AND m.sendAt < t.trigger + 1800""")
reasons = db.execute("""SELECT rule || ' ' || state || ' ' || reason, COUNT(*) FROM flow_timer
    WHERE state != 'sent' GROUP BY 1 ORDER BY 2 DESC""").fetchall()
print("   sent by rule: " + ", ".join(f"{rule} {n}" for rule, n in sorted(sent.items())))
print(f"   first reminders moved before quiet hours (deadline): {moved}")
print("   not sent: " + "; ".join(f"{what} {n}" for what, n in reasons))
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print(f"ok: {clean['messages']} messages, the same {len(keys('clean'))} keys with and without the kills, none twice")
PY
rm -rf "$work"
