#!/usr/bin/env bash
# Fuzz smoke (~30 s of fuzzing plus the build): every cargo-fuzz target of the core for a few
# seconds, starting from its committed seeds. Long runs: see crates/zarrs-node-core/fuzz/README.md.
# Needs the nightly toolchain and cargo-fuzz (the "Fuzz smoke" CI job installs both). The build
# takes most of the time: every dependency again, instrumented for coverage.
set -euo pipefail
cd "$(dirname "$0")/../crates/zarrs-node-core/fuzz"
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke needs the nightly toolchain and cargo-fuzz: rustup toolchain install nightly; cargo install cargo-fuzz" >&2
  exit 1
fi
# The fuzz workspace resolves from the main lockfile, so it tests the same dependency versions.
[ -f Cargo.lock ] || cp ../../../Cargo.lock Cargo.lock
start=$(date +%s)
cargo +nightly fuzz build -s none
echo "fuzz targets built in $(( $(date +%s) - start ))s"
for target in $(cargo +nightly fuzz list); do
  corpus=$(mktemp -d)
  cargo +nightly fuzz run -s none "$target" "$corpus" "seeds/$target" -- -max_total_time=7 -rss_limit_mb=2048 -print_final_stats=0 2>&1 | tail -n 2
  rm -rf "$corpus"
done
