#!/usr/bin/env bash
# Create the Python venvs the tests use, each from its pinned requirements file:
#   .venv          reference packages (zarr-python, anndata 0.12) for the interop tests and
#                  fixture generators
#   .venv-servers  the S3-protocol test server (moto) for the object-store tests
# Re-runs are cheap: a venv is only (re)installed when its requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
setup() {
  local venv=$1 req=$2
  local stamp=$venv/.requirements.sha want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}
setup .venv scripts/fixtures/requirements.txt
setup .venv-servers scripts/fixtures/requirements-servers.txt
