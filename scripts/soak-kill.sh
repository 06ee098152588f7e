#!/usr/bin/env bash
# Kill soak: one campaign to `sparrow-gateway-sim`, killed with SIGKILL at random moments and resumed each time,
# then finished; the simulator's counters and the report must show every row submitted exactly once.
#
#   scripts/soak-kill.sh [--batch | --aliyun] [ROWS] [KILLS] [SEED]   (defaults: 200000 rows, 20 kills, a random seed)
#
# The kills land while the input is read and journaled, while requests are out (5 % of them answered 503, so
# retries and their back-off are under way too), while answers are committed, and during a quiet-hours wait:
# 200 of the recipients are in New York, where --now is 30 seconds before the end of the night, and the campaign
# runs with --wait. Each run is `send` the first time, `resume` after (with the same input on stdin).
#
# Checks, from gateway-sim's /stats and `sparrow report --format json`:
#   distinct idempotency keys = rows  (no row lost)
#   messages = rows                   (no row sent twice: a message in flight at a kill, or answered but not yet
#                                      recorded, is resent under its key, and the simulator, honouring keys,
#                                      counts a repeated key, not a message)
#   accepted = submitted = rows in the report
#
# --batch sends one text to a gateway taking 100 numbers a request, without idempotency keys (batches carry none):
# a batch in flight at a kill must end `unknown`, never be sent again. Checks, from the simulator's arrival log
# and the report:
#   no number arrives twice           (nothing sent twice)
#   accepted + unknown = rows         (nothing unaccounted for)
#   accepted <= messages the simulator took
#
# --aliyun sends an approved template through Alibaba Cloud's SendBatchSms (100 numbers a request, signed, no
# idempotency key) to the simulator playing Alibaba. Each resume first settles the messages in doubt by
# QuerySendDetails (--reopen-after 2): found, they are settled; never taken, they are sent again. After the last
# run, `resume --reopen-after 0` settles what is left. Checks, from the arrival log and the report:
#   no number arrives twice           (nothing sent twice)
#   accepted = rows, unknown = 0      (every message settled: sent exactly once)
# Prints one line per run and a summary; exits 1 if a check fails. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=single
case ${1:-} in
  --batch) mode=batch; shift ;;
  --aliyun) mode=aliyun; shift ;;
esac
rows=${1:-200000}
kills=${2:-20}
seed=${3:-$RANDOM$RANDOM}
for value in "$rows" "$kills" "$seed"; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "usage: $0 [--batch | --aliyun] [ROWS] [KILLS] [SEED]" >&2; exit 2; }
done

work=$(mktemp -d /tmp/soak-kill.XXXXXX)
source scripts/lib/bench.sh
sim_pid=""
run_pid=""
stop_processes() {
  [[ -n $run_pid ]] && kill -KILL "$run_pid" 2>/dev/null || true
  [[ -n $sim_pid ]] && { kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
}
bench_on_exit stop_processes

bench_build_sparrow

# 30 s before 08:00 in New York: the 200 recipients there come due half a minute into the run.
now=2026-11-23T12:59:30Z
python3 - "$work" "$rows" "$seed" <<'PY'
import random, sys
work, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
abroad = min(200, rows // 10)
with open(f"{work}/recipients.csv", "w") as out:
    out.write("phone,name,tz\n")
    for i in range(rows - abroad):
        out.write(f"{('138', '186', '189')[i % 3]}{i // 3:08d},客户{i},\n")
    for i in range(abroad):
        out.write(f"+1 212 555 {i:04d},Customer {i},America/New_York\n")
PY
cat >"$work/sparrow.yaml" <<CONF
store: store.sqlite
default_region: CN
quiet_hours: { start: "21:00", end: "08:00" }
carriers:
  - { id: china-mobile, country_code: 86, prefixes: [138] }
  - { id: china-unicom, country_code: 86, prefixes: [186] }
  - { id: china-telecom, country_code: 86, prefixes: [189] }
  - { id: us, country_code: 1, prefixes: [212] }
gateways:
CONF
sim_options=()
resume_options=()
if [[ $mode == batch ]]; then
  cat >>"$work/sparrow.yaml" <<CONF
  - include: $PWD/config/gateways/generic-json-batch.yaml
    name: primary
    url: http://127.0.0.1:SIM_PORT/v1/batch
    auth: { type: bearer, token: soak-token }
    batch: { max: 100, list: to, results: { path: results, number: to, success_field: { path: status, equals: ok }, message_id: message_id } }
    max_in_flight: 16
    retry: { max_attempts: 8, base_delay: 20ms, max_delay: 500ms }
CONF
  message=(--text '您好，您的订单已发货')  # one text: full batches
elif [[ $mode == aliyun ]]; then
  cat >>"$work/sparrow.yaml" <<CONF
  - name: primary
    type: aliyun
    url: http://127.0.0.1:SIM_PORT/
    sign_name: 青禾
    access_key_id: soak-id
    access_key_secret: soak-secret
    api: SendBatchSms
    max_in_flight: 16
    retry: { max_attempts: 8, base_delay: 20ms, max_delay: 500ms }
templates:
  shipped: { text: "\${name}您好，您的订单已发货", ids: { primary: SMS_153055065 } }
CONF
  message=(--approved shipped)
  sim_options=(--aliyun-secret soak-id:soak-secret)
  resume_options=(--reopen-after 2)
else
  cat >>"$work/sparrow.yaml" <<CONF
  - include: $PWD/config/gateways/generic-json.yaml
    name: primary
    url: http://127.0.0.1:SIM_PORT/v1/sms
    auth: { type: bearer, token: soak-token }
    max_in_flight: 32
    retry: { max_attempts: 8, base_delay: 20ms, max_delay: 500ms }
CONF
  message=(--text '{{name}}您好，您的订单已发货')
fi

port=$(bench_free_port)
sed -i "s/SIM_PORT/$port/" "$work/sparrow.yaml"
"$sim" --listen "127.0.0.1:$port" --fail-503 0.05 --seed "$seed" --arrival-log "$work/arrivals.log" \
  "${sim_options[@]}" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$port/stats" && break; sleep 0.1; done

echo "soak-kill$([[ $mode != single ]] && echo " --$mode"): $rows rows, $kills kills, seed $seed, $(git rev-parse --short HEAD), $(nproc) cores"
random=$seed
started=$(date +%s)
run=0
killed=0
while true; do
  run=$((run + 1))
  if [[ -f $work/store.sqlite ]]; then command=(resume "${resume_options[@]}"); else command=(send "${message[@]}"); fi
  (cd "$work" && exec "$sparrow" "${command[@]}" -c sparrow.yaml --campaign soak --now "$now" --wait \
    --rejects rejects.jsonl <recipients.csv >>run.log 2>&1) &
  run_pid=$!
  if ((killed < kills)); then
    random=$(((random * 1103515245 + 12345) % 2147483648))  # a linear congruential step: the seed repeats a run
    delay_ms=$((200 + random % 4800))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -0 "$run_pid" 2>/dev/null; then
      kill -KILL "$run_pid"
      wait "$run_pid" 2>/dev/null || true
      run_pid=""
      killed=$((killed + 1))
      echo "  run $run (${command[0]}): killed after ${delay_ms} ms; gateway: $(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats")"
      continue
    fi
  fi
  status=0
  wait "$run_pid" || status=$?
  run_pid=""
  echo "  run $run (${command[0]}): exited $status; gateway: $(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats")"
  ((status == 0)) || grep '^sparrow: ' "$work/run.log" | tail -n 2 | sed 's/^/    /'
  ((status == 0)) && break
  ((run < kills + 10)) || { echo "the campaign did not finish" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
done
if [[ $mode == aliyun ]]; then
  # What the kills left in doubt, settled now that no request can still be on its way: found, or sent again.
  for _ in 1 2 3; do
    (cd "$work" && "$sparrow" resume -c sparrow.yaml --campaign soak --now "$now" --reopen-after 0 >>run.log 2>&1)
  done
fi
elapsed=$(($(date +%s) - started))

stats=$(curl -sf --noproxy '*' "http://127.0.0.1:$port/stats")
report=$(cd "$work" && "$sparrow" report -c sparrow.yaml --campaign soak --format json 2>/dev/null)
python3 - "$rows" "$killed" "$run" "$elapsed" "$stats" "$report" "$mode" "$work/arrivals.log" <<'PY'
import collections, json, sys
rows, killed, runs, elapsed = map(int, sys.argv[1:5])
stats, report = json.loads(sys.argv[5]), json.loads(sys.argv[6])["total"]
if sys.argv[7] != "single":
    arrivals = collections.Counter(line.split()[1] for line in open(sys.argv[8]))
    twice = sum(1 for count in arrivals.values() if count > 1)
    print(f"summary: {rows} rows, {killed} kills in {runs} runs, {elapsed} s, batches of up to 100")
    print(f"  gateway: {stats['messages']} messages, {len(arrivals)} numbers, {twice} of them twice, "
          f"{stats['faults']} 503s")
    print(f"  report: targeted {report['targeted']}, submitted {report['submitted']}, accepted {report['accepted']}, "
          f"unknown {report['unknown']}, failed {report['failed']}")
    unaccounted = rows - report["accepted"] - report["unknown"]
    print(f"  unaccounted {unaccounted}, sent twice {twice}")
    ok = twice == 0 and unaccounted == 0 and report["accepted"] <= stats["messages"]
    if sys.argv[7] == "aliyun":  # settled: every message found at the gateway, or sent again and taken
        ok = ok and report["unknown"] == 0 and report["accepted"] == rows == len(arrivals)
    print("  PASS" if ok else "  FAIL")
    sys.exit(0 if ok else 1)
lost = rows - stats["distinct_keys"]
duplicated = stats["messages"] - rows
print(f"summary: {rows} rows, {killed} kills in {runs} runs, {elapsed} s")
print(f"  gateway: {stats['messages']} messages, {stats['distinct_keys']} distinct keys, "
      f"{stats['duplicates']} repeated keys (unrecorded at a kill, resent and recognised), {stats['faults']} 503s")
print(f"  report: targeted {report['targeted']}, submitted {report['submitted']}, accepted {report['accepted']}, "
      f"unknown {report['unknown']}, failed {report['failed']}")
print(f"  lost {lost}, duplicated {duplicated}")
ok = lost == 0 and duplicated == 0 and report["accepted"] == rows and report["submitted"] == rows
print("  PASS" if ok else "  FAIL")
sys.exit(0 if ok else 1)
PY
