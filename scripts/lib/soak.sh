# Shared by the soak-*.sh scripts: starting their workers again when they fail, killing them at random, and the
# worst one-second window at the gateway. Before calling these, set `workers` (the workers' numbers) and `pids`
# (their processes, by number), and define `start WORKER`, which starts a worker in the background and sets its pid.

finished=()

# soak_reap: notes the workers that have ended since; one that failed is started again.
soak_reap() {
  local worker status
  for worker in "${workers[@]}"; do
    [[ ${finished[$worker]:-0} == 1 || -z ${pids[$worker]} ]] && continue
    kill -0 "${pids[$worker]}" 2>/dev/null && continue
    status=0
    wait "${pids[$worker]}" || status=$?
    pids[$worker]=""
    if ((status == 0)); then
      finished[$worker]=1
    else
      echo "  worker $worker exited $status; started again"
      start "$worker"
    fi
  done
}

soak_all_finished() {
  local worker
  for worker in "${workers[@]}"; do [[ ${finished[$worker]:-0} == 1 ]] || return 1; done
}

# soak_kill SEED KILLS LEAST_MS SPREAD_MS STATS_URL: KILLS times, unless every worker has finished first, waits
# LEAST_MS plus up to SPREAD_MS, kills a worker picked at random with SIGKILL and starts it again, printing a line
# with the gateway's STATS_URL; the seed repeats a run's choices. Sets `killed`.
soak_kill() {
  local random=$1 kills=$2 least=$3 spread=$4 stats=$5 delay_ms worker
  killed=0
  while ((killed < kills)) && ! soak_all_finished; do
    random=$(((random * 1103515245 + 12345) % 2147483648))  # a linear congruential step
    delay_ms=$((least + random % spread))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    soak_reap
    worker=${workers[$(((random / 4096) % ${#workers[@]}))]}
    [[ ${finished[$worker]:-0} == 1 || -z ${pids[$worker]} ]] && continue
    kill -KILL "${pids[$worker]}" 2>/dev/null || true
    wait "${pids[$worker]}" 2>/dev/null || true
    killed=$((killed + 1))
    echo "  kill $killed: worker $worker after ${delay_ms} ms; gateway: $(curl -sf --noproxy '*' "$stats")"
    start "$worker"
  done
}

# soak_wait: returns once every worker has finished, starting again those that fail.
soak_wait() {
  while ! soak_all_finished; do
    sleep 0.2
    soak_reap
  done
}

# soak_worst_window ARRIVALS: the most messages in any one second of the simulator's arrival log (a line per message,
# its time in microseconds first), then the messages a second over the log's span.
soak_worst_window() {
  python3 - "$1" <<'PY'
import sys
times = sorted(int(line.split()[0]) for line in open(sys.argv[1]))
worst, start = 0, 0
for end, time in enumerate(times):
    while times[start] <= time - 1_000_000:
        start += 1
    worst = max(worst, end - start + 1)
span = (times[-1] - times[0]) / 1e6
print(worst, f"{len(times) / span:.1f}", f"{span:.1f}")
PY
}
