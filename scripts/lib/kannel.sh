# Kannel 1.4.5 (Debian's package) as a peer for the bench scripts: a bearerbox with one HTTP SMSC (`generic`) that
# sends every message, or every part of a long one, as a GET to a gateway URL, and an smsbox whose `sendsms`
# interface takes the messages in: without a store, Kannel at its fastest, keeping nothing across a crash, or with
# its store file, which keeps every message taken until it is sent. Source scripts/lib/bench.sh first; call
# `kannel_stop` from the script's cleanup.

kannel_bearerbox_pid=""
kannel_smsbox_pid=""

# kannel_start GATEWAY_URL [store]: starts both boxes, sending to GATEWAY_URL, with a fresh store file when the
# second argument is "store", and sets kannel_sendsms_url once smsbox answers (user and password: bench).
kannel_start() {
  local gateway=$1 dir="$work/kannel" admin box sendsms smsc store=""
  rm -rf "$dir" && mkdir -p "$dir"
  [[ ${2:-} != store ]] || printf -v store 'store-type = file\nstore-location = "%s/kannel.store"\n' "$dir"
  admin=$(bench_free_port) box=$(bench_free_port) sendsms=$(bench_free_port) smsc=$(bench_free_port)
  # A blank line ends a group in kannel.conf.
  cat >"$dir/kannel.conf" <<CONF
group = core
admin-port = $admin
admin-password = bench
status-password = bench
admin-allow-ip = "127.0.0.1"
smsbox-port = $box
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = 3
${store}
group = smsc
smsc = http
smsc-id = gateway
system-type = generic
port = $smsc
connect-allow-ip = "127.0.0.1"
send-url = "$gateway?to=%p&from=%P&text=%b&coding=%c&udh=%u"
status-success-regex = "ok"
max-pending-submits = 16

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box
sendsms-port = $sendsms
log-file = "$dir/smsbox.log"
log-level = 3

group = sendsms-user
username = bench
password = bench
max-messages = 3
concatenation = true
CONF
  /usr/sbin/bearerbox "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 &
  kannel_bearerbox_pid=$!
  kannel_sendsms_url="http://127.0.0.1:$sendsms/cgi-bin/sendsms"
  # smsbox gives up at once when bearerbox is not listening yet.
  if kannel_wait_for "http://127.0.0.1:$admin/status?password=bench"; then
    /usr/sbin/smsbox "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 &
    kannel_smsbox_pid=$!
    # A message to nowhere is refused, but only once smsbox is up and connected.
    kannel_wait_for "$kannel_sendsms_url?username=bench&password=bench&to=&text=x" && return 0
  fi
  echo "Kannel did not start:" >&2
  tail -n 20 "$dir"/*.out "$dir"/*.log >&2 || true
  return 1
}

# kannel_wait_for URL: waits up to 10 s for URL to answer anything.
kannel_wait_for() {
  for _ in $(seq 100); do
    curl -s --noproxy '*' --max-time 1 "$1" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

kannel_stop() {
  local pid
  for pid in $kannel_smsbox_pid $kannel_bearerbox_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  kannel_bearerbox_pid="" kannel_smsbox_pid=""
}

# CPU ticks of both boxes so far.
kannel_ticks() {
  echo $(($(bench_process_ticks "$kannel_bearerbox_pid") + $(bench_process_ticks "$kannel_smsbox_pid")))
}

# Peak RSS of both boxes, KiB.
kannel_peak_rss() {
  local total=0 pid kib
  for pid in $kannel_bearerbox_pid $kannel_smsbox_pid; do
    kib=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}
