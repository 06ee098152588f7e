# Shared by the bench-*.sh and soak-*.sh scripts: installing Debian packages without starting their services, nginx on a free
# loopback port as a neutral gateway, and the CPU counters that tell a disturbed run. Source it after setting
# `work` (a temporary directory the script removes, unless KEEP_WORK is set: then it says where it is) and call
# `bench_on_exit`.

bench_nginx_pid=""
bench_nginx_worker=""
bench_policy_created=""

# bench_install PACKAGE… installs what is missing (root), with a policy-rc.d that keeps the packages' services
# (a system nginx on :80, Kannel's boxes) from starting.
bench_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || { echo "missing: ${missing[*]}; run as root to install them" >&2; return 1; }
  echo "installing ${missing[*]} from Debian" >&2
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# bench scripts: keep package scripts from starting services\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    bench_policy_created=1
  fi
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  if [[ -n $bench_policy_created ]]; then rm -f /usr/sbin/policy-rc.d; bench_policy_created=""; fi
}

# bench_build_sparrow: builds `sparrow` and `sparrow-gateway-sim` (release), and sets `sparrow` and `sim` to their
# paths; with SPARROW_BIN set, `sparrow` is that binary instead (to compare two saved builds with `--against`), and the
# simulator is still this checkout's.
bench_build_sparrow() {
  echo "building sparrow and sparrow-gateway-sim (release)" >&2
  if [[ -z ${SPARROW_BIN:-} ]]; then nice -n 15 swift build -c release --product sparrow >&2; fi
  nice -n 15 swift build -c release --product sparrow-gateway-sim >&2
  local bin
  bin=$(swift build -c release --show-bin-path)
  sparrow=${SPARROW_BIN:+$(realpath "$SPARROW_BIN")}
  sparrow=${sparrow:-$bin/sparrow}
  sim=$bin/sparrow-gateway-sim
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bench_start_nginx CONNECTIONS: one worker on a free 127.0.0.1 port answering every request with a small JSON
# body (`/batch200`: 200 results, one for each message of a batch, in order), access log off; sets
# bench_nginx_port. `/nginx-status` counts connections and requests.
bench_start_nginx() {
  local connections=$1 port attempt batch_results
  batch_results=$(python3 - <<'PY'
for quarter in range(4):
    results = ",".join(f'{{"status":"ok","message_id":"$id-{n}"}}' for n in range(quarter * 50, quarter * 50 + 50))
    print(f"            set $results{quarter} '{results}';")
PY
  )
  chmod 755 "$work"  # nginx's worker runs as an unprivileged user and must reach its temp directories
  mkdir -p "$work/nginx"
  for attempt in 1 2 3; do
    port=$(bench_free_port)
    cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections $((connections + 256)); }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$port;
        location = /nginx-status { stub_status; }
        location / {
            default_type application/json;
            return 200 '{"status":"ok","message_id":"\$request_id"}';
        }
        # A gateway that takes up to 200 messages a request: a result for each, in the request's order, each with an
        # id of its own (nginx takes a parameter of at most 4 KiB: the body is built in quarters).
        location = /batch200 {
            default_type application/json;
            set \$id \$request_id;
$batch_results
            return 200 '{"results":[\$results0,\$results1,\$results2,\$results3]}';
        }
    }
}
CONF
    nice -n 15 /usr/sbin/nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
    bench_nginx_pid=$!
    for _ in $(seq 50); do
      if curl -sf --noproxy '*' --max-time 1 -o /dev/null "http://127.0.0.1:$port/nginx-status"; then
        bench_nginx_port=$port
        bench_nginx_worker=$(pgrep -P "$bench_nginx_pid" | head -n 1 || true)
        return 0
      fi
      kill -0 "$bench_nginx_pid" 2>/dev/null || break
      sleep 0.1
    done
    bench_stop_nginx
  done
  echo "nginx did not start:" >&2
  cat "$work/nginx/error.log" >&2 || true
  return 1
}

bench_stop_nginx() {
  if [[ -n $bench_nginx_pid ]] && kill -0 "$bench_nginx_pid" 2>/dev/null; then
    kill -TERM "$bench_nginx_pid" 2>/dev/null || true  # fast shutdown: the master stops its worker, then exits
    for _ in $(seq 50); do kill -0 "$bench_nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$bench_nginx_pid" 2>/dev/null || true
    wait "$bench_nginx_pid" 2>/dev/null || true
  fi
  bench_nginx_pid=""
}

# Connections accepted and requests handled so far.
bench_nginx_counts() {
  { curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$bench_nginx_port/nginx-status" || echo; } |
    awk 'NR==3 {print $1, $3; found=1} END {if (!found) print 0, 0}'
}

# CPU ticks the whole box spent busy (all cores), and ticks stolen by the hypervisor.
bench_busy_ticks() {
  awk '/^cpu / {print $2+$3+$4+$7+$8, $9}' /proc/stat
}

# utime+stime of one process, 0 if it is gone.
bench_process_ticks() {
  [[ -n ${1:-} && -r /proc/$1/stat ]] || { echo 0; return; }
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12+$13}'
}

# Waits until the box is below half a core busy for a second, at most QUIET_WAIT seconds (default 20).
bench_wait_for_quiet() {
  local waited=0 before after ticks
  ticks=$(getconf CLK_TCK)
  while ((waited < ${QUIET_WAIT:-20})); do
    read -r before _ < <(bench_busy_ticks)
    sleep 1
    read -r after _ < <(bench_busy_ticks)
    (((after - before) * 100 < ticks * 50)) && return 0
    waited=$((waited + 1))
  done
}

# bench_on_exit STOP: when the script exits, or on Ctrl-C, SIGTERM or SIGHUP, runs STOP (a function stopping the
# script's own processes), then `bench_cleanup`, and exits with the script's status.
bench_on_exit() {
  bench_stop_hook=$1
  trap bench_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

bench_exit() {
  local status=$?
  trap - EXIT INT TERM HUP
  "$bench_stop_hook" || true  # stopping what has already stopped is not a failure
  bench_cleanup
  exit "$status"
}

bench_cleanup() {
  bench_stop_nginx
  [[ -n $bench_policy_created ]] && rm -f /usr/sbin/policy-rc.d
  if [[ -n ${KEEP_WORK:-} ]]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
