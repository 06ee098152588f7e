#!/usr/bin/env bash
# Scale-out soak: one campaign of a PostgreSQL store, journaled and sent by `sparrow send`, shared with three
# `sparrow worker`s, all through one carrier rate (`shared_rates`) to one `sparrow-gateway-sim`. A worker picked at
# random is killed with SIGKILL at random moments and started again, until the campaign is done.
#
#   scripts/soak-workers.sh [ROWS] [KILLS] [RATE] [SEED] [HONOURED]
#                               (defaults: 200000 rows, 10 kills, 2000 a second with a burst of a tenth of it, a
#                               random seed, a gateway honouring idempotency keys: true)
#
# Runs itself under scripts/with-postgres.sh (a throw-away cluster) unless SPARROW_TEST_POSTGRES_URL is set.
#
# Checks, from the simulator's arrival log (a line per message it took, with its time), /stats and the store:
#   the worst one-second window at the gateway <= rate + burst       (one rate over every process, however many
#                                                                    were killed when)
#   honoured: distinct keys = rows and every row accepted            (nothing lost; a message a killed worker had
#                                                                    in flight went again under its key)
#   not honoured: messages <= rows, accepted + unknown = rows        (nothing sent twice; a message in flight at a
#                                                                    kill is recorded unknown)
# Prints one line per kill, the worst window and a summary; exits 1 if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${SPARROW_TEST_POSTGRES_URL:-} ]]; then exec scripts/with-postgres.sh "$0" "$@"; fi
rows=${1:-200000}
kills=${2:-10}
rate=${3:-2000}
seed=${4:-$RANDOM$RANDOM}
honoured=${5:-true}
for value in "$rows" "$kills" "$rate" "$seed"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [ROWS] [KILLS] [RATE] [SEED] [true|false]" >&2; exit 2; }
done
[[ $honoured == true || $honoured == false ]] || { echo "HONOURED is true or false" >&2; exit 2; }
burst=$(((rate + 9) / 10))
lease=3

work=$(mktemp -d /tmp/soak-workers.XXXXXX)
source scripts/lib/bench.sh
source scripts/lib/soak.sh
sim_pid=""
send_pid=""
workers=(0 1 2)
pids=("" "" "")
stop_processes() {
  for pid in "${pids[@]}" "$send_pid"; do [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n $sim_pid ]] && { kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
}
bench_on_exit stop_processes

bench_build_sparrow

port=$(bench_free_port)
sim_flags=()
[[ $honoured == true ]] || sim_flags=(--no-idempotency)
"$sim" --listen "127.0.0.1:$port" --seed "$seed" --arrival-log "$work/arrivals.log" "${sim_flags[@]}" \
  >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && break; sleep 0.1; done

database="$SPARROW_TEST_POSTGRES_URL?sslmode=disable"
carrier="soak-$seed"  # a rate row of this run's own, should the database be one that outlives it
campaign="soak-$seed"
cat >"$work/sparrow.yaml" <<CONF
store: "$database"
shared_rates: "$database"
quiet_hours: off
carriers:
  - { id: $carrier, country_code: 86, prefixes: [138], rate: $rate, burst: $burst }
gateways:
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: http://127.0.0.1:$port/v1/sms
    auth: { type: bearer, token: soak-token }
    idempotency: { honoured: $honoured }
    max_in_flight: 16
CONF
python3 - "$work/recipients.csv" "$rows" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("phone\n")
    for i in range(int(sys.argv[2])):
        out.write(f"138{i:08d}\n")
PY

echo "soak-workers: $rows rows, send + 3 workers, $kills kills, $rate/s burst $burst, lease ${lease}s," \
  "keys honoured: $honoured, seed $seed, $(git rev-parse --short HEAD), $(nproc) cores"
# start WORKER: runs a worker on the campaign in the background.
start() {
  (cd "$work" && exec "$sparrow" worker -c sparrow.yaml --campaign "$campaign" --lease "$lease" --poll 200 \
    </dev/null >>"worker-$1.log" 2>&1) &
  pids[$1]=$!
}
started=$(date +%s)
(cd "$work" && exec "$sparrow" send -c sparrow.yaml --campaign "$campaign" --text 'Hi' <recipients.csv \
  >send.log 2>&1) &
send_pid=$!
for worker in "${workers[@]}"; do start "$worker"; done
soak_kill "$seed" "$kills" 500 6000 "http://127.0.0.1:$port/stats"
send_status=0
wait "$send_pid" || send_status=$?
send_pid=""
soak_wait
elapsed=$(($(date +%s) - started))
(cd "$work" && "$sparrow" report -c sparrow.yaml --campaign "$campaign" --format json >report.json)

stats=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats")
python3 - "$rows" "$killed" "$elapsed" "$rate" "$burst" "$honoured" "$send_status" "$stats" "$work/report.json" \
  $(soak_worst_window "$work/arrivals.log") <<'PY'
import json, sys
rows, killed, elapsed, rate, burst = map(int, sys.argv[1:6])
honoured, send_status = sys.argv[6] == "true", int(sys.argv[7])
stats = json.loads(sys.argv[8])
total = json.load(open(sys.argv[9]))["total"]
worst, per_second, span = int(sys.argv[10]), sys.argv[11], sys.argv[12]
bound = rate + burst
print(f"summary: {rows} rows, {killed} kills, {elapsed} s; send exited {send_status}")
print(f"  gateway: {stats['messages']} messages, {stats['distinct_keys']} distinct keys, "
      f"{stats['duplicates']} repeated keys (in flight at a kill, resent and recognised)")
print(f"  store: {total['accepted']} accepted, {total['unknown']} unknown, {total['failed']} failed")
print(f"  rate at the gateway: worst one-second window {worst} (bound {bound}); "
      f"{per_second} messages a second over {span} s")
if honoured:
    ok = stats["distinct_keys"] == rows and total["accepted"] == rows
else:
    ok = stats["messages"] <= rows and total["accepted"] + total["unknown"] == rows
ok = ok and worst <= bound and send_status == 0
print("  PASS" if ok else "  FAIL")
sys.exit(0 if ok else 1)
PY
