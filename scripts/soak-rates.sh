#!/usr/bin/env bash
# Shared-rates soak: three `sparrow send` processes, each with its own store and campaign, send one carrier's
# messages to one `sparrow-gateway-sim` through a rate they share in PostgreSQL (`shared_rates`); one of them, picked
# at random, is killed with SIGKILL at random moments and resumed each time, until all three have finished.
#
#   scripts/soak-rates.sh [--alone] [ROWS] [KILLS] [RATE] [SEED]
#                               (defaults: 30000 rows in all, 10 kills, 500 a second with a burst of a tenth of it, a
#                               random seed); --alone: the baseline, one process holding the rate by itself (no
#                               shared_rates) with all the rows, never killed
#
# Runs itself under scripts/with-postgres.sh (a throw-away cluster) unless SPARROW_TEST_POSTGRES_URL is set.
#
# Checks, from the simulator's arrival log (a line per message it took, with its time) and /stats:
#   the worst one-second window at the gateway <= rate + burst       (the shared bound, whatever was killed when:
#                                                                    a killed process's leased units are lost, never
#                                                                    sent by another)
#   distinct keys = rows, messages = rows                            (nothing lost, nothing sent twice: a message in
#                                                                    flight at a kill is resent under its key)
# Prints one line per kill, the worst window and a summary; exits 1 if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${SPARROW_TEST_POSTGRES_URL:-} ]]; then exec scripts/with-postgres.sh "$0" "$@"; fi
workers=(0 1 2)
if [[ ${1:-} == --alone ]]; then workers=(0); shift; fi
rows=${1:-30000}
kills=${2:-10}
rate=${3:-500}
seed=${4:-$RANDOM$RANDOM}
for value in "$rows" "$kills" "$rate" "$seed"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [ROWS] [KILLS] [RATE] [SEED]" >&2; exit 2; }
done
burst=$(((rate + 9) / 10))

work=$(mktemp -d /tmp/soak-rates.XXXXXX)
source scripts/lib/bench.sh
source scripts/lib/soak.sh
sim_pid=""
pids=("" "" "")
stop_processes() {
  for pid in "${pids[@]}"; do [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n $sim_pid ]] && { kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
}
bench_on_exit stop_processes

bench_build_sparrow

port=$(bench_free_port)
"$sim" --listen "127.0.0.1:$port" --seed "$seed" --arrival-log "$work/arrivals.log" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && break; sleep 0.1; done

carrier="soak-$seed"  # a rate row of this run's own, should the database be one that outlives it
shared="shared_rates: \"$SPARROW_TEST_POSTGRES_URL?sslmode=disable\""
((${#workers[@]} > 1)) || { shared=""; kills=0; }
for worker in "${workers[@]}"; do
  mkdir -p "$work/$worker"
  cat >"$work/$worker/sparrow.yaml" <<CONF
store: store.sqlite
quiet_hours: off
$shared
carriers:
  - { id: $carrier, country_code: 86, prefixes: [138], rate: $rate, burst: $burst }
gateways:
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: http://127.0.0.1:$port/v1/sms
    auth: { type: bearer, token: soak-token }
    max_in_flight: 16
CONF
  python3 - "$work/$worker/recipients.csv" "$worker" "$rows" "${#workers[@]}" <<'PY'
import sys
path, worker, rows, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(path, "w") as out:
    out.write("phone\n")
    for i in range(worker, rows, count):
        out.write(f"138{i:08d}\n")
PY
done

echo "soak-rates: $rows rows over ${#workers[@]} processes, $kills kills, $rate/s burst $burst, seed $seed, $(git rev-parse --short HEAD), $(nproc) cores"
# start WORKER: runs the worker's campaign (`send` the first time, `resume` after) in the background.
start() {
  local command=(send --text 'Hi')
  # `resume` once the campaign is recorded (a `send` killed before it was leaves a store without it).
  if python3 -c 'import sqlite3, sys; sys.exit(0 if sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("select 1 from campaign where id = ?", (sys.argv[2],)).fetchone() else 1)' \
    "$work/$1/store.sqlite" "soak-$1" 2>/dev/null; then
    command=(resume)
  fi
  (cd "$work/$1" && exec "$sparrow" "${command[@]}" -c sparrow.yaml --campaign "soak-$1" <recipients.csv \
    >>run.log 2>&1) &
  pids[$1]=$!
}
started=$(date +%s)
for worker in "${workers[@]}"; do start "$worker"; done
soak_kill "$seed" "$kills" 200 2800 "http://127.0.0.1:$port/stats"
soak_wait
elapsed=$(($(date +%s) - started))

stats=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats")
python3 - "$rows" "$killed" "$elapsed" "$rate" "$burst" "$stats" $(soak_worst_window "$work/arrivals.log") <<'PY'
import json, sys
rows, killed, elapsed, rate, burst = map(int, sys.argv[1:6])
stats = json.loads(sys.argv[6])
worst, per_second, span = int(sys.argv[7]), sys.argv[8], sys.argv[9]
bound = rate + burst
lost = rows - stats["distinct_keys"]
duplicated = stats["messages"] - rows
print(f"summary: {rows} rows, {killed} kills, {elapsed} s")
print(f"  gateway: {stats['messages']} messages, {stats['distinct_keys']} distinct keys, "
      f"{stats['duplicates']} repeated keys (in flight at a kill, resent and recognised)")
print(f"  rate at the gateway: worst one-second window {worst} (bound {bound}); "
      f"{per_second} messages a second over {span} s")
print(f"  lost {lost}, duplicated {duplicated}")
ok = worst <= bound and lost == 0 and duplicated == 0
print("  PASS" if ok else "  FAIL")
sys.exit(0 if ok else 1)
PY
