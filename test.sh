#!/usr/bin/env bash
# The second command: run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source ./bootstrap.sh
export BASELINE_OHLCV_DIR="${BASELINE_OHLCV_DIR:-$(pwd)/tests/data/ohlcv}"
set +e
python -m pytest -n 2 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "test.sh: pytest collected no tests" >&2; exit 1; fi
exit "$rc"
