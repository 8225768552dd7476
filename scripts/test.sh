#!/usr/bin/env bash
# `npm test`: everything a change must pass, in order of cost. Builds what is stale first.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# Each phase prints the seconds since the start, to see where the time goes.
phase() { echo "== [$(( $(date +%s) - start ))s] $*"; }

phase "build"
node scripts/build.mjs
phase "python reference venv"
bash scripts/setup-python.sh
phase "rust: fmt, clippy, tests"
# `napi build` compiles for an explicit `--target`; the same flag here lets cargo reuse those
# artifacts instead of compiling every dependency a second time (about 10 minutes on 2 cores).
host=$(rustc -vV | sed -n 's/^host: //p')
cargo fmt --all --check
cargo clippy --profile ci --target "$host" --workspace --all-targets --quiet -- -D warnings
cargo test --profile ci --target "$host" --workspace --quiet
# the bench smoke test runs the raw-zarrs peer; build it here, never inside a timed test
cargo build --profile ci --target "$host" --quiet -p zarrs-node-bench-raw
phase "typescript: types, lint"
npx tsc -p tsconfig.json --noEmit
npx biome check .
phase "native binding drift"
git diff --exit-code --stat -- src-ts/native/index.d.ts src-ts/native/index.js || {
  echo "src-ts/native/index.{js,d.ts} differ from what napi build generates: commit the regenerated files" >&2
  exit 1
}
phase "vitest"
npx vitest run
phase "done"
