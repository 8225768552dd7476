#!/usr/bin/env bash
# Create the Python venvs the tests use, each from its pinned requirements file:
#   .venv          reference packages (zarr-python, anndata 0.12) for the interop tests and
#                  fixture generators
#   .venv-servers  the S3-protocol test server (moto) for the object-store tests
#   .venv-anndata-0.13  the current reference on Python 3.12 (anndata 0.13.4 needs it): anndata
#                  0.13.4, zarr-python 3.4.2, tensorstore, zarrs-python
# Re-runs are cheap: a venv is only (re)installed when its requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# anndata 0.13 needs Python >= 3.12: a working python3.12 on PATH (a pyenv shim may exist
# without the version being selected, so run it), else the newest pyenv 3.12.
python312() {
  if python3.12 -c 'import venv' >/dev/null 2>&1; then command -v python3.12; return; fi
  local root; root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  ls -d "$root"/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -n1
}
setup() {
  local venv=$1 req=$2 python=${3:-python3}
  local stamp=$venv/.requirements.sha want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}
setup .venv scripts/fixtures/requirements.txt
setup .venv-servers scripts/fixtures/requirements-servers.txt
py312=$(python312)
if [ -z "$py312" ]; then
  echo "setup-python: no Python 3.12 found (python3.12 on PATH or pyenv); anndata 0.13.4 needs it" >&2
  exit 1
fi
setup .venv-anndata-0.13 scripts/fixtures/requirements-013.txt "$py312"
