#!/usr/bin/env bash
# The whole job on loopback: the gateway simulator with delivery receipts, `sparrow send --receipts` on the example
# campaign in config/, then the report; then the CRM loop: customers scored from an order export, a send with a
# holdout and tracked links, clicks through the webhook, the orders that followed, what the campaign earned, and the
# responders as the next audience. Starts from an empty demo store (state/, as config/sparrow.yaml names it).
#
#   scripts/demo.sh [NOW]     (NOW: the campaign's clock, RFC 3339; default 2026-11-22T04:30:00Z, 12:30 in Shanghai)
set -euo pipefail
cd "$(dirname "$0")/.."
now=${1:-2026-11-22T04:30:00Z}
bin=.build/release/sparrow
sim=.build/release/sparrow-gateway-sim
out=out
mkdir -p "$out"
rm -f state/sparrow.sqlite state/sparrow.sqlite-wal state/sparrow.sqlite-shm
sim_pid=
tencent_pid=
trap 'kill $sim_pid $tencent_pid 2>/dev/null || true' EXIT

echo "== gateway-sim on 127.0.0.1:8088: receipts to the webhook after 0.2–1.2 s, 5% sent twice, out of order"
"$sim" --listen 127.0.0.1:8088 --receipts-url http://127.0.0.1:8089/dlr \
  --receipt-token "${SPARROW_DLR_TOKEN:-demo-token}" --receipt-delay-ms 200 --receipt-jitter-ms 1000 \
  --receipt-mix 0.93,0.05 --receipt-duplicates 0.05 --fail-503 0.02 > "$out/gateway-sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$out/gateway-sim.log" && break; sleep 0.1; done

campaign=demo-$(date +%H%M%S)
echo "== sparrow send --receipts: campaign $campaign, config/examples/recipients.csv, as of $now"
"$bin" send --config config/sparrow.yaml --template config/examples/unpaid-reminder.mustache --now "$now" \
  --campaign "$campaign" --receipts --receipts-wait 10 --rejects "$out/rejects.jsonl" < config/examples/recipients.csv

echo "== gateway-sim as Tencent Cloud SMS on 127.0.0.1:8090: TC3 signatures checked, 3% of numbers refused by code"
"$sim" --listen 127.0.0.1:8090 --tencent-secret AKIDdemo:demo-secret --refuse-numbers 0.03 \
  --receipts-url http://127.0.0.1:8089/dlr/tencent --receipt-token "${SPARROW_DLR_TOKEN:-demo-token}" \
  --receipt-delay-ms 200 --receipt-list 50 > "$out/gateway-sim-tencent.log" 2>&1 &
tencent_pid=$!
for _ in $(seq 100); do grep -q listening "$out/gateway-sim-tencent.log" && break; sleep 0.1; done
# A day and an hour later: past the frequency cap's 24 hours since the first campaign.
later=$(date -u -d "${now%Z} UTC + 25 hours" +%Y-%m-%dT%H:%M:%SZ)
echo "== sparrow send --approved unpaid: the same customers a day later, through config/tencent.yaml, as of $later"
"$bin" send --config config/tencent.yaml --approved unpaid --now "$later" --campaign "$campaign-tencent" \
  --receipts --receipts-wait 5 --rejects "$out/rejects-tencent.jsonl" < config/examples/recipients.csv
kill "$tencent_pid" 2>/dev/null || true

echo "== first rejects ($out/rejects.jsonl)"
head -n 3 "$out/rejects.jsonl"
echo "== sparrow report --campaign $campaign --format csv ($out/report.csv)"
"$bin" report --config config/sparrow.yaml --campaign "$campaign" --format csv | tee "$out/report.csv" | head -n 3
echo "== gateway-sim counters"
curl -s http://127.0.0.1:8088/stats; echo
echo "== sparrow audience: a synthetic Taobao export (GBK, 3,000 orders) scored into the store grid"
scripts/gen-orders.py 3000 --format taobao --gbk --now 2026-11-22 > "$out/orders-taobao.csv"
"$bin" audience --orders "$out/orders-taobao.csv" --now "$now" --rejects "$out/orders-rejects.jsonl" \
  > "$out/customers.csv"
"$bin" audience --orders "$out/orders-taobao.csv" --now "$now" --rejects "$out/orders-rejects.jsonl" --matrix \
  2>/dev/null | head -n 7
echo "   ($out/customers.csv: $(($(wc -l < "$out/customers.csv") - 1)) customers, highest spender first, ready for plan and send)"

# Sent yesterday at 12:30 in Shanghai, so that today's clicks fall within its three days.
sent=$(date -u -d yesterday +%Y-%m-%dT04:30:00Z)
echo "== the CRM loop, as of $sent: a store's orders, its 1,500 biggest spenders, 20% held out, each with a tracked link"
scripts/gen-orders.py 12000 --customers 5000 --seed 11 --now "${sent%%T*}" > "$out/orders.csv"
"$bin" audience --orders "$out/orders.csv" --now "$sent" --rejects "$out/orders-rejects.jsonl" 2>/dev/null \
  > "$out/loop-customers.csv"
head -n 1501 "$out/loop-customers.csv" > "$out/top-customers.csv"
"$sim" --listen 127.0.0.1:8088 --receipts-url http://127.0.0.1:8089/dlr \
  --receipt-token "${SPARROW_DLR_TOKEN:-demo-token}" --receipt-delay-ms 100 --body-log "$out/bodies.log" \
  > "$out/gateway-sim-loop.log" 2>&1 &
loop_pid=$!
kill "$sim_pid" 2>/dev/null || true
sim_pid=$loop_pid
for _ in $(seq 100); do grep -q listening "$out/gateway-sim-loop.log" && break; sleep 0.1; done
loop=$campaign-winter
"$bin" send --config config/sparrow.yaml --campaign "$loop" --holdout 20% --now "$sent" --receipts --receipts-wait 5 \
  --text "{{name}}，冬季会员价已开启，您上次买的{{last_item}}有新款：{{link}}" --rejects "$out/rejects-loop.jsonl" \
  < "$out/top-customers.csv" 2>&1 | grep -E "^(campaign|targeted|held_out|submitted|delivered) "
echo "== customers click: one link in ten, through the webhook (sparrow receipts)"
"$bin" receipts --config config/sparrow.yaml > "$out/receipts.log" 2>&1 &
receipts_pid=$!
for _ in $(seq 100); do grep -q listening "$out/receipts.log" && break; sleep 0.1; done
grep -o 'http://127.0.0.1:8089/s/[0-9A-Za-z]\{10\}' "$out/bodies.log" | awk 'NR % 10 == 1' | while read -r link; do
  curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "$link"
done | sort | uniq -c | sort -rn | sed -n '1s/^ */   clicks answered: /p'
kill "$receipts_pid" 2>/dev/null || true
echo "== three days later: the orders that came, with a lift of 8 points planted by scripts/gen-orders.py"
scripts/gen-orders.py --after state/sparrow.sqlite --campaign "$loop" --history "$out/orders.csv" \
  --base-rate 0.04 --lift 0.08 --seed 5 > "$out/orders-after.csv"
cat "$out/orders.csv" "$out/orders-after.csv" > "$out/orders-now.csv"   # the store's export, three days on
"$bin" effect --config config/sparrow.yaml --campaign "$loop" --orders "$out/orders-now.csv" \
  --now "$(date -u -d "${sent%Z} UTC + 4 days" +%Y-%m-%dT%H:%M:%SZ)" --rejects "$out/effect-rejects.jsonl" \
  > "$out/effect.txt"
head -n 28 "$out/effect.txt"
echo "   (all of it, by segment, grid cell and carrier: $out/effect.txt)"
echo "== the next audience: those who responded"
"$bin" audience --orders "$out/orders-now.csv" --now "$sent" --config config/sparrow.yaml \
  --responders-of "$loop" --rejects "$out/orders-rejects.jsonl" 2>/dev/null > "$out/responders.csv"
echo "   ($out/responders.csv: $(($(wc -l < "$out/responders.csv") - 1)) customers)"
