#!/usr/bin/env bash
# Sparrow's HTTP transport (CurlTransport: one curl multi handle on a thread of its own) against a bare C
# libcurl-multi client, through the same local nginx, in alternating rounds. Sparrow runs both ways it hands back
# results: completions on the transport's thread (`send`, the path the dispatcher takes) and tasks awaiting a
# continuation each (`perform`).
#
#   scripts/bench-transport.sh [N] [ROUNDS] [K]      (defaults: 200000 requests, 3 rounds, 16 in flight)
#
# Both clients POST the same ~200-byte form bodies (a different message number in each), K in flight over K
# keep-alive HTTP/1.1 connections, to nginx on a free 127.0.0.1 port (one worker, keepalive_requests 1000000,
# access log off, a fixed JSON answer). Runs go C S P C S P …; every run is printed, then the medians of req/s
# and of client CPU µs/req, and the ratios Sparrow/C. On this shared 2-core machine compare CPU µs/req: req/s is bounded
# by nginx and by whatever else runs. Each run line also shows the connections nginx accepted during the run
# (K means no churn), nginx's own CPU per request, and the CPU the rest of the box used meanwhile ("other", in %
# of one core; a run with a high figure was disturbed). The summary gives the medians twice: over all runs, and
# over the undisturbed runs only (other < 25 %).
#
# Installs nginx-light from Debian if no nginx is there (root; a temporary policy-rc.d keeps the package from
# starting a system nginx on :80). Everything it starts is stopped and every temp file removed on any exit.
# Environment: QUIET_WAIT (seconds, default 20) bounds the wait for a quiet box before each run; QUIET_WAIT=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-200000}
rounds=${2:-3}
inflight=${3:-16}
for value in "$total" "$rounds" "$inflight" "${QUIET_WAIT:-20}"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [N] [ROUNDS] [K]   (positive integers)" >&2; exit 2; }
done
((total > 0 && rounds > 0 && inflight > 0)) || { echo "N, ROUNDS and K must be positive" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-transport.XXXXXX)
source scripts/lib/bench.sh
client_pid=""
stop_client() {
  if [[ -n $client_pid ]] && kill -0 "$client_pid" 2>/dev/null; then
    kill -TERM "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
  fi
}
bench_on_exit stop_client

bench_install nginx-light curl

# --- builds ------------------------------------------------------------------------------------------------------
echo "building the C client and TransportBench (release)" >&2
nice -n 15 gcc -O2 -Wall -Wextra -o "$work/curl-multi-client" Benchmarks/Peers/curl-multi-client.c -lcurl
(cd Benchmarks && nice -n 15 swift build -c release --product TransportBench >&2)
sparrow_bench="$(cd Benchmarks && nice -n 15 swift build -c release --show-bin-path)/TransportBench"
[[ -x $sparrow_bench ]] || { echo "TransportBench binary not found at $sparrow_bench" >&2; exit 1; }

bench_start_nginx "$inflight"
url="http://127.0.0.1:$bench_nginx_port/sms"

ticks=$(getconf CLK_TCK)

results="$work/results.txt"
: >"$results"
failed=0
run_one() {  # run_one NAME BINARY [ARGUMENT]
  local name=$1 binary=$2 extra=${3:-} line rc=0 start end busy0 busy1 steal0 steal1 ng0 ng1 acc0 req0 acc1 req1
  bench_wait_for_quiet
  read -r acc0 req0 < <(bench_nginx_counts)
  read -r busy0 steal0 < <(bench_busy_ticks)
  ng0=$(bench_process_ticks "$bench_nginx_worker")
  start=$(date +%s.%N)
  nice -n 15 "$binary" "$url" "$total" "$inflight" $extra >"$work/out.txt" 2>"$work/err.txt" &
  client_pid=$!
  wait "$client_pid" || rc=$?
  client_pid=""
  end=$(date +%s.%N)
  ng1=$(bench_process_ticks "$bench_nginx_worker")
  read -r busy1 steal1 < <(bench_busy_ticks)
  read -r acc1 req1 < <(bench_nginx_counts)
  line=$(grep -E '^(c-client|sparrow-transport):' "$work/out.txt" || true)
  if [[ -z $line || $rc != 0 ]]; then
    failed=1
    echo "$name run failed (exit $rc): ${line:-no result line}" >&2
  fi
  [[ -s $work/err.txt ]] && sed "s/^/    $name stderr: /" "$work/err.txt" >&2
  [[ -n $line ]] || return 0
  # requests nginx counted include the two status queries made around the run
  python3 - "$name" "$line" "$start" "$end" "$busy0" "$busy1" "$steal0" "$steal1" "$ng0" "$ng1" \
    "$acc0" "$acc1" "$req0" "$req1" "$ticks" "$total" "$inflight" >>"$results" <<'PY'
import re, sys
name, line = sys.argv[1], sys.argv[2]
start, end = float(sys.argv[3]), float(sys.argv[4])
busy0, busy1, steal0, steal1, ng0, ng1, acc0, acc1, req0, req1, ticks, total, k = map(int, sys.argv[5:])
m = re.search(r"(\d+) errors, ([\d.]+) seconds, (\d+) req/s, ([\d.]+) CPU us/req", line)
errors, seconds, rate, cpu = int(m[1]), float(m[2]), float(m[3]), float(m[4])
wall = end - start
client_s = cpu * total / 1e6
nginx_s = (ng1 - ng0) / ticks
other = ((busy1 - busy0) / ticks - client_s - nginx_s) / wall * 100
steal = (steal1 - steal0) / ticks / wall * 100
conns = acc1 - acc0 - 1
served = req1 - req0 - 1
print(f"{name}\t{rate}\t{cpu}\t{errors}\t{seconds}\t{conns}\t{served}\t{nginx_s * 1e6 / total:.1f}\t{max(other, 0):.0f}\t{steal:.0f}\t{line}")
PY
  tail -n 1 "$results" | awk -F'\t' -v n="$name" '{printf "%-8s %s | nginx: %d conns, %d reqs, %s CPU us/req | other %s%%, steal %s%%\n", n, $11, $6, $7, $8, $9, $10}'
}

echo "bench-transport: N=$total K=$inflight rounds=$rounds, nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') on $url"
echo "machine: $(nproc) cores, $(uname -sr), $(curl-config --version)"
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  run_one C "$work/curl-multi-client"
  run_one Sparrow "$sparrow_bench" send
  run_one Perform "$sparrow_bench" perform
done

python3 - "$results" "$total" "$inflight" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
def column(name, index):
    return [float(r[index]) for r in rows if r[0] == name]
errors = sum(int(r[3]) for r in rows)
churn = [int(r[5]) for r in rows if int(r[5]) != int(sys.argv[3])]
print(f"summary: N={sys.argv[2]} K={sys.argv[3]}, {len(column('C', 1))} rounds, "
      f"{errors} errors in all, connections per run {'always K' if not churn else 'not K in ' + str(len(churn)) + ' runs'}")
clients = [("C", "C client"), ("Sparrow", "Sparrow transport, send"), ("Perform", "Sparrow transport, perform")]
def table(title, keep):
    medians = {}
    for name, _ in clients:
        runs = [(float(r[1]), float(r[2])) for r in rows if r[0] == name and keep(r)]
        if runs:
            medians[name] = (statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs), len(runs))
    if "C" not in medians or len(medians) < 2:
        print(f"{title}: not enough runs")
        return
    print(f"{title:50s} {'runs':>5s} {'req/s (median)':>15s} {'CPU us/req (median)':>20s}")
    for name, label in clients:
        if name in medians:
            rate, cpu, n = medians[name]
            print(f"{'  ' + label:50s} {n:>5d} {rate:>15,.0f} {cpu:>20.1f}")
    c_rate, c_cpu, _ = medians["C"]
    for name, label in clients[1:]:
        if name in medians:
            rate, cpu, _ = medians[name]
            print(f"{'  ' + label.replace('Sparrow transport', 'Sparrow') + ' / C':50s} {'':>5s} {rate / c_rate:>15.2f} {cpu / c_cpu:>20.2f}")
table("all runs", lambda r: True)
# A run during which the rest of the box used a quarter of a core or more competed with other work.
table("undisturbed runs (other < 25%)", lambda r: float(r[8]) < 25)
PY
exit "$failed"
