#!/usr/bin/env bash
# `sparrow send` end to end, with everything on, against a bare C libcurl-multi client posting the same bodies to
# the same gateway, in turns (C S C S …), and the medians and ratios of their rates.
#
#   scripts/bench-e2e.sh [--quick] [N] [ROUNDS]     (defaults: 200000 messages, 3 rounds; --quick: 50000, 1)
#
# Sparrow's side is a whole `sparrow send` process (release build): N recipients on stdin, a Mustache template
# with two variables, the signature and opt-out suffix, segmenting (UCS-2), a 1,000,000-number suppression list,
# the frequency cap, quiet hours (every recipient is in their day), unthrottled carriers, and the SQLite journal
# with durable commits; each round starts from a copy of the same store. Its rate is N over the process's wall
# time, reading and journaling included. The C side (Benchmarks/Peers/curl-multi-client.c) posts the very bodies
# Sparrow sent, captured once through `sparrow gateway-sim --body-log`, with the same headers and K = 16 in
# flight on keep-alive connections. The gateway is nginx on loopback answering a fixed JSON body; then, in a
# second table, `sparrow gateway-sim` (a fresh one for each run). CPU is user+system time of the client process;
# RSS its peak.
#
# Installs nginx-light from Debian if missing (root). Everything it starts is stopped, every temp file removed.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
total=${1:-$([[ -n $quick ]] && echo 50000 || echo 200000)}
rounds=${2:-$([[ -n $quick ]] && echo 1 || echo 3)}
suppressed=1000000
inflight=16
now=2026-11-23T04:00:00Z  # 12:00 in China: every recipient is outside quiet hours
for value in "$total" "$rounds"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [--quick] [N] [ROUNDS]   (positive integers)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/bench-e2e.XXXXXX)
source scripts/lib/bench.sh
sim_pid=""
stop_sim() {
  if [[ -n $sim_pid ]]; then kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  sim_pid=""
}
# start_sim [OPTION…]: a fresh gateway-sim (no keys seen yet) on sim_port.
start_sim() {
  stop_sim
  sim_port=$(bench_free_port)
  "$sparrow" gateway-sim --listen "127.0.0.1:$sim_port" "$@" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$sim_port/stats" && return 0; sleep 0.1; done
  echo "gateway-sim did not start:" >&2
  cat "$work/sim.log" >&2
  return 1
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  stop_sim
  bench_cleanup
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

bench_install nginx-light curl libcurl4-openssl-dev gcc
bench_build_sparrow
nice -n 15 gcc -O2 -Wall -Wextra -o "$work/c-client" Benchmarks/Peers/curl-multi-client.c -lcurl

# --- data --------------------------------------------------------------------------------------------------------
python3 - "$work" "$total" "$suppressed" <<'PY'
import random, sys
work, total, suppressed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(5)
names = "王伟 李娜 张敏 刘洋 陈静 杨磊 黄丽 赵强 吴芳 周杰".split()
with open(f"{work}/recipients.csv", "w") as out:
    out.write("phone,name,order\n")
    for i in range(total):  # distinct numbers of three carriers, none of them suppressed
        prefix = ("138", "186", "189")[i % 3]
        out.write(f"{prefix}{i // 3:08d},{rng.choice(names)},DD{rng.randrange(10**9):09d}\n")
with open(f"{work}/suppressed.txt", "w") as out:
    for i in range(suppressed):
        out.write(f"137{i:08d}\n")
PY
printf '%s' '{{name}}您好，您的订单{{order}}已发货，请留意查收。' >"$work/template.mustache"

write_config() {  # write_config FILE GATEWAY_URL
  cat >"$1" <<CONF
store: store.sqlite
default_region: CN
default_timezone: Asia/Shanghai
signature: "【青禾旗舰店】"
optout_suffix: "回T退订"
quiet_hours: { start: "21:00", end: "08:00" }
frequency_cap: { max: 1, per: 24h }
carriers:
  - { id: china-mobile, country_code: 86, prefixes: [138] }
  - { id: china-unicom, country_code: 86, prefixes: [186] }
  - { id: china-telecom, country_code: 86, prefixes: [189] }
gateways:
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: $2
    auth: { type: bearer, token: bench-token }
    max_in_flight: $inflight
CONF
}

# The store every Sparrow run starts from: the suppression list imported, nothing sent.
mkdir -p "$work/base"
write_config "$work/base/sparrow.yaml" "http://127.0.0.1:1/unused"
"$sparrow" suppress import --config "$work/base/sparrow.yaml" "$work/suppressed.txt" >&2

# Sparrow's request bodies, byte for byte: one send to gateway-sim with --body-log.
start_sim --body-log "$work/bodies.txt"
mkdir -p "$work/capture"
cp "$work/base/store.sqlite" "$work/capture/"
write_config "$work/capture/sparrow.yaml" "http://127.0.0.1:$sim_port/v1/sms"
"$sparrow" send --config "$work/capture/sparrow.yaml" --template "$work/template.mustache" --now "$now" \
  --campaign bench --rejects "$work/capture/rejects.jsonl" <"$work/recipients.csv" >/dev/null 2>"$work/capture.log" ||
  { cat "$work/capture.log" >&2; exit 1; }
captured=$(wc -l <"$work/bodies.txt")
((captured == total)) || { echo "captured $captured bodies for $total recipients" >&2; cat "$work/capture.log" >&2; exit 1; }
stop_sim

bench_start_nginx "$inflight"
nginx_url="http://127.0.0.1:$bench_nginx_port/v1/sms"

# --- runs --------------------------------------------------------------------------------------------------------
results="$work/results.tsv"
: >"$results"
# measure GATEWAY CLIENT STDIN COMMAND…: one run, one line of results: wall seconds, CPU seconds, peak RSS KiB.
measure() {
  local gateway=$1 client=$2 input=$3 line
  shift 3
  bench_wait_for_quiet
  line=$(python3 - "$input" "$@" <<'PY'
import resource, subprocess, sys, time
source, command = sys.argv[1], sys.argv[2:]
with open(source, "rb") as stdin:
    start = time.perf_counter()
    done = subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
if done.returncode != 0:
    sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    sys.exit(1)
print(f"{wall:.3f}\t{usage.ru_utime + usage.ru_stime:.3f}\t{usage.ru_maxrss}")
PY
  ) || { echo "$client run against $gateway failed" >&2; exit 1; }
  printf '%s\t%s\t%s\n' "$gateway" "$client" "$line" >>"$results"
  awk -F'\t' -v n="$total" '{printf "  %-11s %-8s %8.0f msg/s  %6.1f CPU us/msg  %6.1f MiB peak\n", $1, $2, n / $3, $4 * 1e6 / n, $5 / 1024}' \
    <(tail -n 1 "$results")
}

sparrow_run() {  # sparrow_run GATEWAY URL
  local run="$work/run"
  rm -rf "$run" && mkdir -p "$run"
  cp "$work/base/store.sqlite" "$run/"
  write_config "$run/sparrow.yaml" "$2"
  measure "$1" Sparrow "$work/recipients.csv" "$sparrow" send --config "$run/sparrow.yaml" \
    --template "$work/template.mustache" --now "$now" --campaign bench --rejects "$run/rejects.jsonl"
  local accepted
  accepted=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from message where state = ?", ("accepted",)).fetchone()[0])' "$run/store.sqlite")
  ((accepted == total)) || { echo "Sparrow: $accepted of $total messages accepted" >&2; exit 1; }
}

echo "bench-e2e: N=$total rounds=$rounds K=$inflight, suppression list $suppressed, nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///')"
echo "machine: $(nproc) cores, $(uname -sr), $(curl-config --version), $(git rev-parse --short HEAD)"
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  measure nginx C /dev/null "$work/c-client" "$nginx_url" "$total" "$inflight" "$work/bodies.txt"
  sparrow_run nginx "$nginx_url"
  start_sim
  measure gateway-sim C /dev/null "$work/c-client" "http://127.0.0.1:$sim_port/v1/sms" "$total" "$inflight" "$work/bodies.txt"
  start_sim
  sparrow_run gateway-sim "http://127.0.0.1:$sim_port/v1/sms"
  stop_sim
done

python3 - "$results" "$total" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
total = int(sys.argv[2])
print(f"\n{'gateway':12s} {'client':8s} {'runs':>4s} {'msg/s':>9s} {'CPU us/msg':>11s} {'peak MiB':>9s} {'Sparrow/C':>10s}")
for gateway in ("nginx", "gateway-sim"):
    medians = {}
    for client in ("C", "Sparrow"):
        runs = [r for r in rows if r[0] == gateway and r[1] == client]
        rate = statistics.median(total / float(r[2]) for r in runs)
        cpu = statistics.median(float(r[3]) * 1e6 / total for r in runs)
        rss = max(int(r[4]) for r in runs) / 1024
        medians[client] = rate
        ratio = f"{medians['Sparrow'] / medians['C']:10.2f}" if client == "Sparrow" else ""
        print(f"{gateway:12s} {client:8s} {len(runs):4d} {rate:9,.0f} {cpu:11.1f} {rss:9.1f} {ratio}")
PY
