#!/usr/bin/env bash
# Scale-out benchmarks, on a throw-away PostgreSQL cluster (the script runs itself under scripts/with-postgres.sh
# unless SPARROW_TEST_POSTGRES_URL is set):
#
#   scripts/bench-workers.sh scaling [ROWS] [ROUNDS]   (defaults: 3000 rows, 3 rounds)
#       1, 2 and 3 processes on one campaign (`send`, then `send` and 1 or 2 `sparrow worker`s) against a gateway
#       whose 50 ms latency bounds each process (8 requests in flight each): the rate at the gateway, and its ratio
#       to 1 process times N. The configurations take turns within each round; medians over the rounds.
#   scripts/bench-workers.sh stores [ROWS] [ROUNDS]    (defaults: 50000 rows, 3 rounds)
#       one `sparrow send` against a gateway answering at once (16 in flight), its store a SQLite file or a
#       PostgreSQL database, in alternating runs: the rate at the gateway, CPU per message of `sparrow` and of the
#       rest of the box (the box's busy time less sparrow's and the simulator's: PostgreSQL's server processes, and
#       any noise), and the ratio PostgreSQL / SQLite.
#
# The rate is counted from the simulator's arrival log: messages over the time from the first to the last.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${SPARROW_TEST_POSTGRES_URL:-} ]]; then exec scripts/with-postgres.sh "$0" "$@"; fi
mode=${1:-}
[[ $mode == scaling || $mode == stores ]] || { echo "usage: $0 scaling|stores [ROWS] [ROUNDS]" >&2; exit 2; }
default_rows=3000
[[ $mode == stores ]] && default_rows=50000
rows=${2:-$default_rows}
rounds=${3:-3}

work=$(mktemp -d /tmp/bench-workers.XXXXXX)
source scripts/lib/bench.sh
sim_pid=""
running=()
stop_processes() {
  for pid in "${running[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [[ -n $sim_pid ]] && { kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
}
bench_on_exit stop_processes
bench_build_sparrow

python3 - "$work/recipients.csv" "$rows" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("phone\n")
    for i in range(int(sys.argv[2])):
        out.write(f"138{i:08d}\n")
PY

# sim LATENCY_MS: a fresh simulator, its arrival log in $work/arrivals.log; sets `port`.
sim() {
  [[ -n $sim_pid ]] && { kill -TERM "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; }
  port=$(bench_free_port)
  : >"$work/arrivals.log"
  "$sim" --listen "127.0.0.1:$port" --latency-ms "$1" --arrival-log "$work/arrivals.log" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && break; sleep 0.1; done
}

# configure STORE IN_FLIGHT: writes $work/sparrow.yaml.
configure() {
  cat >"$work/sparrow.yaml" <<CONF
store: "$1"
quiet_hours: off
carriers:
  - { id: china-mobile, country_code: 86, prefixes: [138] }  # unthrottled
gateways:
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: http://127.0.0.1:$port/v1/sms
    auth: { type: bearer, token: bench-token }
    idempotency: { honoured: true }
    max_in_flight: $2
CONF
}

# rate: messages a second at the gateway, from the arrival log.
rate() {
  python3 - "$work/arrivals.log" <<'PY'
import sys
times = sorted(int(line.split()[0]) for line in open(sys.argv[1]))
print(f"{(len(times) - 1) / ((times[-1] - times[0]) / 1e6):.1f}")
PY
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

database="$SPARROW_TEST_POSTGRES_URL?sslmode=disable"
run=0
echo "bench-workers $mode: $rows rows, $rounds rounds, $(git rev-parse --short HEAD), $(nproc) cores"
if [[ $mode == scaling ]]; then
  declare -A rates
  for round in $(seq "$rounds"); do
    for processes in 1 2 3; do
      run=$((run + 1))
      sim 50
      configure "$database" 8
      campaign="scale-$run"
      running=()
      for _ in $(seq 2 "$processes"); do
        (cd "$work" && exec "$sparrow" worker -c sparrow.yaml --campaign "$campaign" --poll 100 </dev/null \
          >>worker.log 2>&1) &
        running+=($!)
      done
      (cd "$work" && "$sparrow" send -c sparrow.yaml --campaign "$campaign" --text 'Hi' <recipients.csv \
        >>send.log 2>&1)
      for pid in "${running[@]}"; do wait "$pid"; done
      running=()
      rates[$processes]="${rates[$processes]:-} $(rate)"
      echo "  round $round, $processes processes: $(rate) messages a second"
    done
  done
  one=$(median ${rates[1]})
  for processes in 1 2 3; do
    value=$(median ${rates[$processes]})
    echo "$processes processes: median $value messages a second, $(python3 -c "print(f'{$value / ($one * $processes):.2f}')")× linear"
  done
else
  declare -A rates cpu rest
  ticks=$(getconf CLK_TCK)
  for round in $(seq "$rounds"); do
    for store in sqlite postgres; do
      run=$((run + 1))
      sim 0
      location="$work/store-$run.sqlite"
      [[ $store == postgres ]] && location=$database
      configure "$location" 16
      read -r busy_before _ < <(bench_busy_ticks)
      sim_before=$(bench_process_ticks "$sim_pid")
      /usr/bin/time -f '%U %S' -o "$work/time" \
        bash -c "cd '$work' && exec '$sparrow' send -c sparrow.yaml --campaign 'stores-$run' --text Hi \
          <recipients.csv >>send.log 2>&1"
      read -r busy_after _ < <(bench_busy_ticks)
      sim_after=$(bench_process_ticks "$sim_pid")
      read -r user system <"$work/time"
      rates[$store]="${rates[$store]:-} $(rate)"
      cpu[$store]="${cpu[$store]:-} $(python3 -c "print(f'{($user + $system) / $rows * 1e6:.1f}')")"
      rest[$store]="${rest[$store]:-} $(python3 -c "print(f'{(($busy_after - $busy_before - $sim_after + $sim_before) / $ticks - $user - $system) / $rows * 1e6:.1f}')")"
      echo "  round $round, $store: $(rate) messages a second"
    done
  done
  for store in sqlite postgres; do
    echo "$store: median $(median ${rates[$store]}) messages a second, sparrow $(median ${cpu[$store]}) µs CPU a" \
      "message, the rest of the box $(median ${rest[$store]}) µs"
  done
  echo "postgres / sqlite: $(python3 -c "print(f'{$(median ${rates[postgres]}) / $(median ${rates[sqlite]}):.2f}')")×"
fi
