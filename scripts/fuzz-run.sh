#!/usr/bin/env bash
# Long coverage-guided fuzz runs: each named target (default: all) until its fuzzer process has
# used CPU_SECONDS of CPU time (not wall time: on a shared machine wall time overstates the work),
# then SIGINT so libFuzzer prints its final stats. Corpora grow in fuzz/corpus/<target> (not
# committed); crashes land in fuzz/artifacts/<target>. Logs: fuzz/logs/<target>.log.
#   CPU_SECONDS=600 JOBS=2 bash scripts/fuzz-run.sh [target ...]
set -euo pipefail
cd "$(dirname "$0")/../crates/zarrs-node-core/fuzz"
cpu_limit="${CPU_SECONDS:-600}"
jobs="${JOBS:-2}"
[ -f Cargo.lock ] || cp ../../../Cargo.lock Cargo.lock
# No sanitizer: the targets check Rust-level properties (no panic, no Internal error, overflow
# checks on); ASan would only add a slower build of the C codecs.
cargo +nightly fuzz build -s none
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
mkdir -p logs
clk=$(getconf CLK_TCK)

cpu_of() { # utime + stime of a pid, in seconds
  awk -v t="$clk" '{ print int(($14 + $15) / t) }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_one() {
  local target=$1 bin="target/x86_64-unknown-linux-gnu/release/$1"
  mkdir -p "corpus/$target" "artifacts/$target"
  "$bin" "corpus/$target" "seeds/$target" -artifact_prefix="artifacts/$target/" \
    -rss_limit_mb=2048 -print_final_stats=1 >"logs/$target.log" 2>&1 &
  local pid=$! used=0
  while kill -0 "$pid" 2>/dev/null; do
    used=$(cpu_of "$pid")
    if [ "$used" -ge "$cpu_limit" ]; then kill -INT "$pid"; break; fi
    sleep 5
  done
  wait "$pid" || true
  echo "$target: ${used}s CPU, $(grep -c 'NEW' "logs/$target.log") new units," \
    "$(ls "corpus/$target" | wc -l) corpus files, $(ls "artifacts/$target" | wc -l) artifacts"
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
