#!/usr/bin/env bash
# `sparrow send` end to end, with everything on, against a bare C libcurl-multi client posting the same bodies to
# the same gateway, in turns (C S C S …), and the medians and ratios of their rates.
#
#   scripts/bench-e2e.sh [--quick] [N] [ROUNDS]     (defaults: 200000 messages, 3 rounds; --quick: 50000, 1, and
#                                                   5,000 messages for Kannel)
#   scripts/bench-e2e.sh --durable [N] [ROUNDS]     only the first table's nginx rows, without wrk: the C client
#                                                   bare and journaling, and Sparrow, in turns (defaults: 100000, 5)
#   scripts/bench-e2e.sh --batch [N] [ROUNDS]       batches: Sparrow with everything on to nginx taking 200 messages
#                                                   a request (`/batch200`: a result for each, in order), Sparrow one
#                                                   message a request, and Kannel's short GSM-7 rate, in turns
#                                                   (defaults: 200000, 3)
#   scripts/bench-e2e.sh [--batch] --perf REPORT [N] one Sparrow run against nginx (--batch: in batches of 200)
#                                                   under `perf record`; the report by thread, library and
#                                                   symbol goes to REPORT;
#                                                   PERF_OPTS adds to `perf record` (say, "--call-graph dwarf
#                                                   -F 499"), and the raw data is kept as REPORT.data
#   scripts/bench-e2e.sh [--batch] --memory [N]     one Sparrow run against nginx (--batch: in batches of 200):
#                                                   its peak RSS, and the journal's size per message
#   scripts/bench-e2e.sh --receipts [N]             one `send --receipts` against gateway-sim posting a receipt
#                                                   for each message to Sparrow's webhook (200–700 ms later, 16
#                                                   at a time; PER_POST=50: in JSON lists of up to 50): the run
#                                                   ends when the last receipt is in
#   scripts/bench-e2e.sh --webhook [N]              the webhook alone (`sparrow receipts`) under a flood: wrk
#                                                   posting a delivered receipt for each of the N messages a
#                                                   send left in the store, K connections for 10 s; the
#                                                   webhook's receipts a second and CPU per receipt, and a
#                                                   check that every answered receipt is in the store
#                                                   (K=64 in the environment: 64 connections; PER_POST=50: each
#                                                   request a JSON list of 50 receipts)
#   scripts/bench-e2e.sh --sched [--cpus LIST] [N]  one Sparrow run against nginx: each thread's CPU time and
#                                                   time waiting for a core (/proc/…/schedstat), and nginx's;
#                                                   --cpus runs Sparrow on those cores only (taskset -c LIST)
#   scripts/bench-e2e.sh --against BINARY [--gateway-sim] [N] [ROUNDS]
#                                                   this checkout's Sparrow and another `sparrow` binary (an
#                                                   older build, say) in turns against nginx (A B A B …), or
#                                                   against a fresh gateway-sim for each run: each one's median
#                                                   rate and CPU, and the ratio; with SPARROW_BIN=PATH, that
#                                                   binary stands for this checkout's
#
# Sparrow's side is a whole `sparrow send` process (release build): N recipients on stdin, a Mustache template
# with two variables, the signature and opt-out suffix, segmenting (UCS-2), a 1,000,000-number suppression list,
# the frequency cap, quiet hours (every recipient is in their day), unthrottled carriers, and the SQLite journal
# with durable commits; each round starts from a copy of the same store. Its rate is N over the process's wall
# time, reading and journaling included. The C side (Benchmarks/Peers/curl-multi-client.c) posts the very bodies
# Sparrow sent, captured once through `sparrow-gateway-sim --body-log`, with the same headers and K = 16 in
# flight on keep-alive connections; once bare, and once journaling as Sparrow's crash contract asks (`--journal`: each
# message inserted in SQLite before its request, marked submitting before it goes, its answer committed after, WAL
# and synchronous=FULL; see the C file), which is the baseline Sparrow's rate is judged against. The gateway is nginx
# on loopback answering a fixed JSON body; then, in a
# second table, `sparrow-gateway-sim` (a fresh one for each run). CPU is user+system time of the client process;
# RSS its peak. Each gateway's own limit on this box comes first: wrk (one thread, K connections, its C event loop
# and nothing else) posting the same bodies with the same headers for 10 s (5 s with --quick).
#
# Sparrow runs once more on nginx with its store on tmpfs (/dev/shm), where a commit's fdatasync costs nothing and
# nothing reaches a disk: the journal's durability, as a ratio.
#
# Then Kannel (scripts/lib/kannel.sh) side by side with Sparrow in three scenarios: short GSM-7, short UCS-2
# (Chinese) and 3-part GSM-7 messages, N/4 of them (at least 5,000; 5,000 with --quick, where Sparrow's start,
# which loads a million suppressed numbers, weighs on its rate and the ratios come out lower). Sparrow runs as above
# with the scenario's template; Kannel gets the very texts Sparrow sent (read from Sparrow's store), injected
# through its `sendsms` interface by the C client (K = 32 GETs in flight), and its HTTP SMSC sends them to the same
# nginx. Kannel's rate is N over the time from the first injection until nginx has answered every request (one per
# part); CPU and RSS are both boxes'. Kannel runs twice in each scenario: without a store, at its fastest, keeping
# nothing across a crash, and with its store file ("Kannel+store"), which keeps every message it has taken until
# it is sent, as Sparrow's journal does.
#
# Installs nginx-light, kannel and wrk from Debian if missing (root). Everything it starts is stopped, every temp file
# removed.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
profile=""
memory=""
durable=""
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
if [[ ${1:-} == --durable ]]; then durable=1; shift; fi
batch=""
if [[ ${1:-} == --batch ]]; then batch=1; shift; fi
if [[ ${1:-} == --perf ]]; then
  [[ -n ${2:-} ]] || { echo "usage: $0 --perf REPORT [N]" >&2; exit 2; }
  profile=$(realpath -m "$2"); quick=1; shift 2
fi
if [[ ${1:-} == --memory ]]; then memory=1; quick=1; shift; fi
receipts=""
if [[ ${1:-} == --receipts ]]; then receipts=1; quick=1; shift; fi
webhook=""
if [[ ${1:-} == --webhook ]]; then webhook=1; quick=1; shift; fi
sched=""
cpus=""
if [[ ${1:-} == --sched ]]; then
  sched=1; quick=1; shift
  if [[ ${1:-} == --cpus ]]; then cpus=${2:?usage: $0 --sched [--cpus LIST] [N]}; shift 2; fi
fi
against=""
against_sim=""
if [[ ${1:-} == --against ]]; then
  [[ -x ${2:-} ]] || { echo "usage: $0 --against BINARY [--gateway-sim] [N] [ROUNDS]   (an executable sparrow)" >&2; exit 2; }
  against=$(realpath "$2"); quick=1; shift 2
  if [[ ${1:-} == --gateway-sim ]]; then against_sim=1; shift; fi
fi
total=${1:-$([[ -n $quick ]] && echo 50000 || { [[ -n $durable ]] && echo 100000; } || echo 200000)}
rounds=${2:-$([[ -n $quick ]] && echo 1 || { [[ -n $durable ]] && echo 5; } || echo 3)}
suppressed=1000000
inflight=${K:-16}  # requests in flight (and wrk's connections); K=64 in the environment for more
receipts_per_request=${PER_POST:-1}  # --receipts, --webhook: receipts a request, a JSON list when above 1
now=2026-11-23T04:00:00Z  # 12:00 in China: every recipient is outside quiet hours
for value in "$total" "$rounds" "$inflight" "$receipts_per_request"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] ||
    { echo "usage: [K=IN_FLIGHT] [PER_POST=RECEIPTS] $0 [--quick] [N] [ROUNDS]   (positive integers)" >&2; exit 2; }
done
# Every list of receipts is full, so that wrk's count of answers times PER_POST is the receipts it posted.
((total % receipts_per_request == 0)) || { echo "PER_POST must divide N" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-e2e.XXXXXX)
ram=$(mktemp -d /dev/shm/bench-e2e.XXXXXX)  # the store on tmpfs
source scripts/lib/bench.sh
source scripts/lib/kannel.sh
sim_pid=""
webhook_pid=""
stop_sim() {
  if [[ -n $sim_pid ]]; then kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  sim_pid=""
}
# start_sim [OPTION…]: a fresh gateway-sim (no keys seen yet) on sim_port.
start_sim() {
  stop_sim
  sim_port=$(bench_free_port)
  "$sim" --listen "127.0.0.1:$sim_port" "$@" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$sim_port/stats" && return 0; sleep 0.1; done
  echo "gateway-sim did not start:" >&2
  cat "$work/sim.log" >&2
  return 1
}
stop_processes() {
  stop_sim
  if [[ -n $webhook_pid ]]; then kill -TERM "$webhook_pid" 2>/dev/null || true; wait "$webhook_pid" 2>/dev/null || true; fi
  kannel_stop
  rm -rf "$ram"
}
bench_on_exit stop_processes

bench_install nginx-light kannel wrk curl libcurl4-openssl-dev gcc bc
[[ -z $profile ]] || bench_install linux-perf
bench_build_sparrow
nice -n 15 gcc -O2 -Wall -Wextra -o "$work/c-client" Benchmarks/Peers/curl-multi-client.c -lcurl -lsqlite3

# --- data --------------------------------------------------------------------------------------------------------
python3 - "$work" "$total" "$suppressed" <<'PY'
import random, sys
work, total, suppressed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(5)
names = "王伟 李娜 张敏 刘洋 陈静 杨磊 黄丽 赵强 吴芳 周杰".split()
aliases = "Wei Na Min Yang Jing Lei Li Qiang Fang Jie".split()
with open(f"{work}/recipients.csv", "w") as out:
    out.write("phone,name,alias,order\n")
    for i in range(total):  # distinct numbers of three carriers, none of them suppressed
        prefix = ("138", "186", "189")[i % 3]
        name = rng.randrange(len(names))
        out.write(f"{prefix}{i // 3:08d},{names[name]},{aliases[name]},DD{rng.randrange(10**9):09d}\n")
with open(f"{work}/suppressed.txt", "w") as out:
    for i in range(suppressed):
        out.write(f"137{i:08d}\n")
PY
printf '%s' '{{name}}您好，您的订单{{order}}已发货，请留意查收。' >"$work/template.mustache"
# The Kannel scenarios' templates: ucs2 is the one above; gsm and long are GSM-7, of one and three parts.
cp "$work/template.mustache" "$work/ucs2.mustache"
printf '%s' 'Hi {{alias}}, your order {{order}} has shipped and arrives in 2 days.' >"$work/gsm.mustache"
printf '%s' 'Hi {{alias}}, thank you for shopping with us again! Your order {{order}} has shipped today and should
arrive within 2 to 3 working days. You can follow it at any time under My Orders in the app, where you can also
change the delivery slot or choose a pick-up point near you. This weekend only, members get 15% off the whole
autumn range with the code AUTUMN15 at checkout, and free delivery on every order.' | tr '\n' ' ' >"$work/long.mustache"

write_config() {  # write_config FILE GATEWAY_URL [SIGNATURE OPTOUT_SUFFIX]
  cat >"$1" <<CONF
store: store.sqlite
default_region: CN
default_timezone: Asia/Shanghai
signature: "${3-【青禾旗舰店】}"  # GSM-7 scenarios: none (a 【】 would make them UCS-2)
optout_suffix: "${4:-回T退订}"
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
${gateway_batch:-}
${receipts_config:-}
CONF
}

# The store every Sparrow run starts from: the suppression list imported, nothing sent.
mkdir -p "$work/base"
write_config "$work/base/sparrow.yaml" "http://127.0.0.1:1/unused"
"$sparrow" suppress import --config "$work/base/sparrow.yaml" "$work/suppressed.txt" >&2

bench_start_nginx "$inflight"
nginx_url="http://127.0.0.1:$bench_nginx_port/v1/sms"
# --batch: each message an object of the batch's list, built from the generic gateway's fields; no idempotency key
# on a batch.
batch_url="http://127.0.0.1:$bench_nginx_port/batch200"
batch_gateway="    idempotency: { honoured: false }
    batch: { max: 200, group: any, list: messages,
             results: { path: results, success_field: { path: status, equals: ok }, message_id: message_id } }"

wrk_seconds=$([[ -n $quick && -z $webhook ]] && echo 5 || echo 10)

# --- runs --------------------------------------------------------------------------------------------------------
results="$work/results.tsv"
: >"$results"
kannel_total=$((total / 4 > 5000 ? total / 4 : 5000))
[[ -z $quick ]] || kannel_total=5000
((kannel_total <= total)) || kannel_total=$total
head -n $((kannel_total + 1)) "$work/recipients.csv" >"$work/kannel-recipients.csv"

# record SCENARIO CLIENT N WALL CPU RSS_KIB: one line of results, echoed.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  awk -F'\t' '{printf "  %-11s %-12s %8.0f msg/s  %6.1f CPU us/msg  %6.1f MiB peak\n", $1, $2, $3 / $4, $5 * 1e6 / $3, $6 / 1024}' \
    <(tail -n 1 "$results")
}

# measure SCENARIO CLIENT N STDIN COMMAND…: one run of COMMAND, timed as a whole.
measure() {
  local scenario=$1 client=$2 n=$3 input=$4 line
  shift 4
  sync  # no run pays for the writeback of files an earlier one left (a store, a copy, a deleted run folder)
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
print(f"{wall:.3f} {usage.ru_utime + usage.ru_stime:.3f} {usage.ru_maxrss}")
PY
  ) || { echo "$client run ($scenario) failed" >&2; exit 1; }
  record "$scenario" "$client" "$n" $line
}

# wrk_run SCENARIO URL: wrk posting the captured bodies (or those in $wrk_bodies) to URL for wrk_seconds, K
# connections on one thread.
wrk_run() {
  local scenario=$1 url=$2 line
  sync
  bench_wait_for_quiet
  line=$(WRK_BODIES="${wrk_bodies:-$work/bodies.txt}" python3 - "$url" "$inflight" "$wrk_seconds" <<'PY'
import re, resource, subprocess, sys
url, connections, seconds = sys.argv[1:]
done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", "Benchmarks/Peers/wrk-post-bodies.lua", url],
                      capture_output=True, text=True)
report = done.stdout + done.stderr
found = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", report)
if done.returncode != 0 or not found or "Non-2xx" in report or "Socket errors" in report:
    sys.exit(f"wrk failed or saw errors:\n{report}")
wall = float(found[2]) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[found[3]]
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{found[1]} {wall:.3f} {usage.ru_utime + usage.ru_stime:.3f} {usage.ru_maxrss}")
PY
  ) || { echo "wrk run ($scenario) failed" >&2; exit 1; }
  record "$scenario" wrk $line
}

# sparrow_run SCENARIO URL TEMPLATE RECIPIENTS [SIGNATURE OPTOUT_SUFFIX] [-- WRAPPER…]: a whole `sparrow send`
# from a copy of the base store, which is left in $work/run (the Kannel runs read their texts from it), or in
# $run_folder when set.
sparrow_run() {
  local scenario=$1 url=$2 template=$3 recipients=$4 run=${run_folder:-$work/run} n accepted
  shift 4
  local labels=() wrapper=()
  while (($# > 0)) && [[ $1 != -- ]]; do labels+=("$1"); shift; done
  if (($# > 0)); then shift; wrapper=("$@"); fi
  n=$(($(wc -l <"$recipients") - 1))
  rm -rf "$run" && mkdir -p "$run"
  cp "$work/base/store.sqlite" "$run/"
  write_config "$run/sparrow.yaml" "$url" "${labels[@]}"
  measure "$scenario" "${sparrow_label:-Sparrow}" "$n" "$recipients" "${wrapper[@]}" "$sparrow" send --config "$run/sparrow.yaml" \
    --template "$template" --now "$now" --campaign bench --rejects "$run/rejects.jsonl" ${receipts_config:+--receipts}
  # Accepted, or past it by a receipt.
  accepted=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from message where state in (?, ?, ?, ?)", ("accepted", "delivered", "undelivered", "expired")).fetchone()[0])' "$run/store.sqlite")
  ((accepted == n)) || { echo "Sparrow: $accepted of $n messages accepted" >&2; exit 1; }
}

# kannel_run SCENARIO PARTS [store]: a fresh Kannel sends the texts of Sparrow's last run, PARTS requests each;
# with its store file when the third argument is "store".
kannel_run() {
  local scenario=$1 parts=$2 store=${3:-} queries="$work/kannel-queries.txt" n before expected seen polls=0 start ticks
  python3 - "$work/run/store.sqlite" "$queries" <<'PY'
import sqlite3, sys, urllib.parse
rows = sqlite3.connect(sys.argv[1]).execute("select recipient, text from message order by line")
with open(sys.argv[2], "w") as out:
    for to, text in rows:
        coding = "" if text.isascii() else "&charset=UTF-8&coding=2"  # the GSM scenarios' texts are plain ASCII
        out.write(f"?username=bench&password=bench&from=Sparrow&to={urllib.parse.quote(to)}"
                  f"&text={urllib.parse.quote(text)}{coding}\n")
PY
  n=$(wc -l <"$queries")
  kannel_start "$nginx_url" "$store"
  bench_wait_for_quiet
  read -r _ before < <(bench_nginx_counts)
  expected=$((before + n * parts))  # nginx counts each status request in the count it reads
  ticks=$(kannel_ticks)
  start=$(date +%s.%N)
  "$work/c-client" "$kannel_sendsms_url" "$n" 32 "$queries" >/dev/null || { echo "Kannel refused messages" >&2; exit 1; }
  while :; do
    polls=$((polls + 1))
    read -r _ seen < <(bench_nginx_counts)
    ((seen >= expected + polls)) && break
    # Kannel retries a failed submit only a minute later: a run this slow has gone wrong.
    (($(date +%s) - ${start%.*} < 600)) ||
      { echo "Kannel: $((seen - before - polls)) of $((n * parts)) requests after 600 s" >&2; exit 1; }
    sleep 0.05
  done
  record "$scenario" "Kannel${store:++store}" "$n" "$(echo "$(date +%s.%N) - $start" | bc)" \
    "$(echo "scale=3; ($(kannel_ticks) - $ticks) / $(getconf CLK_TCK)" | bc)" "$(kannel_peak_rss)"
  kannel_stop
}

echo "bench-e2e: N=$total rounds=$rounds K=$inflight, suppression list $suppressed, nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///')"
echo "machine: $(nproc) cores, $(uname -sr), $(curl-config --version), $(git rev-parse --short HEAD)"
# sparrow_run_one [-- WRAPPER…]: one Sparrow run against nginx, in batches of 200 with --batch (--perf, --memory).
sparrow_run_one() {
  if [[ -n $batch ]]; then
    gateway_batch=$batch_gateway sparrow_run batch "$batch_url" "$work/template.mustache" "$work/recipients.csv" "$@"
  else
    sparrow_run nginx "$nginx_url" "$work/template.mustache" "$work/recipients.csv" "$@"
  fi
}
if [[ -n $profile ]]; then
  sparrow_run_one -- perf record -q -F 1999 ${PERF_OPTS:-} -o "$profile.data" --
  for sort in comm comm,dso comm,dso,sym; do
    perf report -i "$profile.data" --no-children --sort "$sort" --percent-limit 0.3 --stdio 2>/dev/null |
      grep -v -e '^$' -e '^# [^O]' -e '^#$'
  done >"$profile"
  echo "profile: $profile"
  exit 0
fi
if [[ -n $receipts ]]; then
  webhook_port=$(bench_free_port)
  start_sim --receipts-url "http://127.0.0.1:$webhook_port/dlr" --receipt-token bench-dlr --receipt-delay-ms 200 \
    --receipt-jitter-ms 500 --receipt-list "$receipts_per_request"
  receipts_config="receipts: { listen: \"127.0.0.1:$webhook_port\", token: bench-dlr }" \
    sparrow_run receipts "http://127.0.0.1:$sim_port/v1/sms" "$work/template.mustache" "$work/recipients.csv"
  stop_sim
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print("receipts:", c.execute("select count(*) from receipt").fetchone()[0], "in the store;", ", ".join(f"{n} {s}" for s, n in c.execute("select state, count(*) from message group by state")))' "$work/run/store.sqlite"
  exit 0
fi
if [[ -n $webhook ]]; then
  # The store a send left: every message accepted by nginx under a random 32-hex id, as gateways answer.
  sparrow_run nginx "$nginx_url" "$work/template.mustache" "$work/recipients.csv"
  # A body per line: one receipt, or a JSON list of $PER_POST.
  python3 -c 'import json, sqlite3, sys
ids = [id for (id,) in sqlite3.connect(sys.argv[1]).execute("select gatewayMessageID from message order by line")]
size = int(sys.argv[3])
with open(sys.argv[2], "w") as out:
    for start in range(0, len(ids), size):
        receipts = [{"message_id": id, "status": "delivered"} for id in ids[start:start + size]]
        out.write(json.dumps(receipts if size > 1 else receipts[0], separators=(",", ":")) + "\n")' \
    "$work/run/store.sqlite" "$work/receipts.txt" "$receipts_per_request"
  webhook_port=$(bench_free_port)
  # One caller, wrk: no per-caller limit below what it can post (the default is 10,000 a second).
  receipts_config="receipts: { listen: \"127.0.0.1:$webhook_port\", token: bench-token, rate_limit: { per_client: 1000000 } }" \
    write_config "$work/run/webhook.yaml" "$nginx_url"
  "$sparrow" receipts --config "$work/run/webhook.yaml" >"$work/webhook.log" 2>&1 &
  webhook_pid=$!
  for _ in $(seq 100); do
    curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$webhook_port/health" && break
    sleep 0.1
  done
  before=$(bench_process_ticks "$webhook_pid")
  wrk_bodies="$work/receipts.txt" wrk_run webhook "http://127.0.0.1:$webhook_port/dlr"
  ticks=$(($(bench_process_ticks "$webhook_pid") - before))
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/$webhook_pid/status")
  kill -TERM "$webhook_pid" && wait "$webhook_pid" || { cat "$work/webhook.log" >&2; exit 1; }
  webhook_pid=""
  python3 - "$results" "$work/run/store.sqlite" "$ticks" "$(getconf CLK_TCK)" "$peak" "$receipts_per_request" <<'PY'
import sqlite3, sys
results, store = sys.argv[1], sys.argv[2]
ticks, hz, peak, size = (int(value) for value in sys.argv[3:7])
fields = open(results).read().splitlines()[-1].split("\t")
answered = int(fields[2]) * size  # wrk's count of 200s, times the receipts each carried
db = sqlite3.connect(store)
logged = db.execute("select count(*) from receipt").fetchone()[0]
delivered = db.execute("select count(*) from message where state = 'delivered'").fetchone()[0]
print(f"  webhook: {answered / float(fields[3]):.0f} receipts a second ({size} a request), "
      f"{ticks / hz * 1e6 / answered:.1f} CPU us a receipt, peak RSS {peak / 1024:.1f} MiB; "
      f"{logged} receipts in the store, {delivered} messages delivered")
if logged < answered:
    sys.exit(f"only {logged} of the {answered} receipts answered 200 are in the store")
PY
  exit 0
fi
if [[ -n $memory ]]; then
  sparrow_run_one
  size() { du -cb "$1"/store.sqlite* | tail -n 1 | cut -f 1; }
  journal=$(($(size "$work/run") - $(size "$work/base")))
  echo "journal: $((journal / total)) bytes per message ($((journal / 1048576)) MiB for $total messages)"
  exit 0
fi

if [[ -n $against ]]; then
  for round in $(seq 1 "$rounds"); do
    echo "round $round"
    for label in Sparrow other; do
      binary=$([[ $label == Sparrow ]] && echo "$sparrow" || echo "$against")
      scenario=nginx url=$nginx_url
      if [[ -n $against_sim ]]; then start_sim; scenario=gateway-sim url="http://127.0.0.1:$sim_port/v1/sms"; fi
      sparrow=$binary sparrow_label=$label sparrow_run "$scenario" "$url" "$work/template.mustache" "$work/recipients.csv"
    done
  done
  stop_sim
  python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rates, cpus = {}, {}
for client in ("Sparrow", "other"):
    runs = [r for r in rows if r[1] == client]
    rates[client] = statistics.median(int(r[2]) / float(r[3]) for r in runs)
    cpus[client] = statistics.median(float(r[4]) * 1e6 / int(r[2]) for r in runs)
    print(f"{client:8s} {len(runs):2d} runs  {rates[client]:9,.0f} msg/s  {cpus[client]:6.1f} CPU us/msg (medians)")
print(f"this checkout ÷ other: rate {rates['Sparrow'] / rates['other']:.2f}, CPU per message {cpus['Sparrow'] / cpus['other']:.2f}")
PY
  exit 0
fi

if [[ -n $sched ]]; then
  # Runs the command given, sampling its threads' schedstat (CPU ns, run-queue wait ns) until it exits; then prints
  # them in ms, summed per thread name, with nginx's worker over the same time.
  cat >"$work/schedstat.sh" <<'SH'
#!/usr/bin/env bash
out=$1 nginx=$2
shift 2
read -r nginx_cpu nginx_wait _ <"/proc/$nginx/schedstat"
"$@" <&0 &
pid=$!
declare -A seen
while kill -0 "$pid" 2>/dev/null; do
  for task in /proc/"$pid"/task/*; do
    name=$(cat "$task/comm" 2>/dev/null) && stat=$(cat "$task/schedstat" 2>/dev/null) || continue  # it ended
    seen[$name:${task##*/}]=$stat
  done
  sleep 0.2
done
wait "$pid" && status=0 || status=$?
read -r cpu wait _ <"/proc/$nginx/schedstat"
{
  for key in "${!seen[@]}"; do echo "${key%:*} ${seen[$key]}"; done |
    awk '{cpu[$1] += $2; wait[$1] += $3; n[$1]++}
         END {for (t in cpu) printf "%-18s %3d %9.0f %9.0f\n", t, n[t], cpu[t] / 1e6, wait[t] / 1e6}' | sort -k3 -nr
  printf "%-18s %3d %9.0f %9.0f\n" nginx-worker 1 $(((cpu - nginx_cpu) / 1000000)) $(((wait - nginx_wait) / 1000000))
} >"$out"
exit "$status"
SH
  chmod +x "$work/schedstat.sh"
  sparrow_run nginx "$nginx_url" "$work/template.mustache" "$work/recipients.csv" -- \
    "$work/schedstat.sh" "$work/sched.txt" "$bench_nginx_worker" ${cpus:+taskset -c "$cpus"}
  printf "%-18s %3s %9s %9s\n" thread count "CPU ms" "wait ms"
  cat "$work/sched.txt"
  exit 0
fi

if [[ -n $batch ]]; then
  for round in $(seq 1 "$rounds"); do
    echo "round $round"
    gateway_batch=$batch_gateway sparrow_run batch "$batch_url" "$work/template.mustache" "$work/recipients.csv"
    sparrow_run nginx "$nginx_url" "$work/template.mustache" "$work/recipients.csv"
    sparrow_run gsm "$nginx_url" "$work/gsm.mustache" "$work/kannel-recipients.csv" "" "Reply T to opt out"
    kannel_run gsm 1
  done
  python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rate = {}
print(f"\n{'scenario':24s} {'runs':>4s} {'N':>8s} {'msg/s':>9s} {'CPU us/msg':>11s} {'peak MiB':>9s}")
for scenario, client, label in (("batch", "Sparrow", "Sparrow, batches of 200"), ("nginx", "Sparrow", "Sparrow, one a request"),
                                ("gsm", "Sparrow", "Sparrow, short GSM-7"), ("gsm", "Kannel", "Kannel, short GSM-7")):
    runs = [r for r in rows if r[0] == scenario and r[1] == client]
    rate[scenario, client] = statistics.median(int(r[2]) / float(r[3]) for r in runs)
    cpu = statistics.median(float(r[4]) * 1e6 / int(r[2]) for r in runs)
    print(f"{label:24s} {len(runs):4d} {int(runs[0][2]):8d} {rate[scenario, client]:9,.0f} {cpu:11.1f} "
          f"{max(int(r[5]) for r in runs) / 1024:9.1f}")
kannel = rate["gsm", "Kannel"]
print(f"\nbatches ÷ Kannel: {rate['batch', 'Sparrow'] / kannel:.1f}; one a request ÷ Kannel (short GSM-7): "
      f"{rate['gsm', 'Sparrow'] / kannel:.1f}; batches ÷ one a request: {rate['batch', 'Sparrow'] / rate['nginx', 'Sparrow']:.2f}")
PY
  exit 0
fi

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

for round in $(seq 1 "$rounds"); do
  echo "round $round"
  [[ -n $durable ]] || wrk_run nginx "$nginx_url"
  measure nginx C "$total" /dev/null "$work/c-client" "$nginx_url" "$total" "$inflight" "$work/bodies.txt"
  rm -f "$work"/c-journal.sqlite*
  measure nginx C+journal "$total" /dev/null "$work/c-client" --journal "$work/c-journal.sqlite" "$nginx_url" "$total" \
    "$inflight" "$work/bodies.txt"
  sparrow_run nginx "$nginx_url" "$work/template.mustache" "$work/recipients.csv"
  [[ -z $durable ]] || continue
  run_folder="$ram/run" sparrow_run nginx-tmpfs "$nginx_url" "$work/template.mustache" "$work/recipients.csv"
  rm -rf "$ram/run"
  start_sim
  wrk_run gateway-sim "http://127.0.0.1:$sim_port/v1/sms"
  start_sim
  measure gateway-sim C "$total" /dev/null "$work/c-client" "http://127.0.0.1:$sim_port/v1/sms" "$total" "$inflight" \
    "$work/bodies.txt"
  start_sim
  sparrow_run gateway-sim "http://127.0.0.1:$sim_port/v1/sms" "$work/template.mustache" "$work/recipients.csv"
  stop_sim
  for scenario in gsm:1 ucs2:1 long:3; do
    name=${scenario%:*}
    labels=()
    [[ $name == ucs2 ]] || labels=("" "Reply T to opt out")
    sparrow_run "$name" "$nginx_url" "$work/$name.mustache" "$work/kannel-recipients.csv" "${labels[@]}"
    kannel_run "$name" "${scenario#*:}"
    kannel_run "$name" "${scenario#*:}" store
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print(f"\n{'scenario':12s} {'client':12s} {'runs':>4s} {'N':>8s} {'msg/s':>9s} {'CPU us/msg':>11s} {'peak MiB':>9s} "
      f"{'Sparrow ×':>10s} {'of wrk':>7s}")
medians = {}
# Sparrow's ratio is to the scenario's baseline: on nginx, the C client doing the same durable work.
for scenario, baseline in (("nginx", "C+journal"), ("nginx-tmpfs", None), ("gateway-sim", "C"), ("gsm", "Kannel"),
                           ("ucs2", "Kannel"), ("long", "Kannel")):
    clients = {"C+journal": ("wrk", "C", "C+journal", "Sparrow"), "C": ("wrk", "C", "Sparrow"),
               "Kannel": ("Kannel", "Kannel+store", "Sparrow"), None: ("Sparrow",)}
    for client in clients[baseline]:
        runs = [r for r in rows if r[0] == scenario and r[1] == client]
        if not runs:
            continue  # --durable: no wrk, nor any scenario but nginx
        rate = statistics.median(int(r[2]) / float(r[3]) for r in runs)
        cpu = statistics.median(float(r[4]) * 1e6 / int(r[2]) for r in runs)
        rss = max(int(r[5]) for r in runs) / 1024
        n = round(statistics.median(int(r[2]) for r in runs))  # wrk's count varies from run to run
        medians[scenario, client] = rate
        ratio = f"{rate / medians[scenario, baseline]:10.2f}" if client == "Sparrow" and baseline else " " * 10
        of_wrk = f"{rate / medians[scenario, 'wrk']:7.2f}" if client != "wrk" and (scenario, "wrk") in medians else ""
        print(f"{scenario:12s} {client:12s} {len(runs):4d} {n:8d} {rate:9,.0f} {cpu:11.1f} {rss:9.1f} {ratio} {of_wrk}")
print(f"\nSparrow ÷ the bare C client on nginx: {medians['nginx', 'Sparrow'] / medians['nginx', 'C']:.2f}; "
      f"the journaling C client ÷ the bare one: {medians['nginx', 'C+journal'] / medians['nginx', 'C']:.2f}")
if ("gsm", "Sparrow") in medians:
    ratios = (f"{s} {medians[s, 'Sparrow'] / medians[s, 'Kannel+store']:.2f}" for s in ("gsm", "ucs2", "long"))
    print("Sparrow ÷ Kannel with its store file: " + ", ".join(ratios))
    print(f"Sparrow with its journal on disk ÷ on tmpfs: {medians['nginx', 'Sparrow'] / medians['nginx-tmpfs', 'Sparrow']:.2f}")
PY
