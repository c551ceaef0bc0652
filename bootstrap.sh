#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv. Sourced by run.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: creating virtual environment in .venv (first run only)..." >&2
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "python3 >= 3.11 is required")'
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
# The compiled decision core (build_core.py): built when missing or when a core source changed (a
# no-op otherwise); without a C compiler the interpreted core runs, with identical decisions.
"$VENV/bin/python" "$ROOT/build_core.py" >&2 || echo "bootstrap: the core was not compiled; the interpreted core runs" >&2
export PATH="$VENV/bin:$PATH"
