#!/usr/bin/env bash
# Create .venv with the pinned reference packages (zarr-python, anndata 0.12) used by the
# interop tests and fixture generators.
# Re-runs are cheap: it only installs when requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/fixtures/requirements.txt
stamp=.venv/.requirements.sha
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
