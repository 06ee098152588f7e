#!/usr/bin/env bash
# Times `sparrow plan` on generated campaigns: rows per second with output to /dev/null, and peak RSS for two
# sizes (memory must not grow with the row count). The floor `wc -l` over the same file runs in the same
# rounds, so the ratio means something on a noisy shared machine.
#
#   scripts/bench-plan.sh [ROWS] [ROUNDS]     (defaults: 1000000 rows, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
rounds=${2:-3}
work=${BENCH_DIR:-$(mktemp -d)}
bin=.build/release/sparrow
[ -x "$bin" ] || swift build -c release --product sparrow >&2

small=$((rows / 10))
[ -f "$work/r$rows.csv" ] || python3 scripts/gen-recipients.py "$rows" --seed 11 > "$work/r$rows.csv"
[ -f "$work/r$small.csv" ] || python3 scripts/gen-recipients.py "$small" --seed 12 > "$work/r$small.csv"
template=config/examples/unpaid-reminder.mustache
now=2026-11-22T04:00:00Z

# Runs a command with stdin from $1, prints "seconds peak_rss_kib cpu_seconds".
measure() {
  local input=$1; shift
  python3 - "$input" "$@" <<'PY'
import resource, subprocess, sys, time
source, command = sys.argv[1], sys.argv[2:]
with open(source, "rb") as stdin:
    start = time.perf_counter()
    subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{elapsed:.3f} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.3f}")
PY
}

plan=("$bin" plan --config config/sparrow.yaml --template "$template" --now "$now" --rejects "$work/rejects.jsonl")
echo "rows=$rows rounds=$rounds machine: $(nproc) cores, $(uname -sr)"
printf "%-6s %10s %12s %10s %14s %10s %12s %14s\n" round plan_s rows_per_s cpu_s cpu_us_per_row wc_s plan/wc peak_rss_MiB
plan_times=()
for round in $(seq 1 "$rounds"); do
  read -r wc_s _ _ < <(measure "$work/r$rows.csv" wc -l)
  read -r plan_s rss cpu_s < <(measure "$work/r$rows.csv" "${plan[@]}")
  plan_times+=("$plan_s")
  python3 -c "import sys; p,w,r,n,c=map(float,sys.argv[1:6]); print(f'{int(sys.argv[6]):<6d} {p:10.3f} {n/p:12,.0f} {c:10.3f} {c/n*1e6:14.2f} {w:10.3f} {p/w:12.1f} {r/1024:14.1f}')" \
    "$plan_s" "$wc_s" "$rss" "$rows" "$cpu_s" "$round"
done
read -r _ small_rss _ < <(measure "$work/r$small.csv" "${plan[@]}")
median=$(printf "%s\n" "${plan_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
python3 -c "import sys; m,n,s=float(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]); print(f'median: {n/m:,.0f} rows/s; peak RSS {s/1024:.1f} MiB at {n//10:,} rows')" \
  "$median" "$rows" "$small_rss"
