#!/usr/bin/env bash
# The first command: run the bot (paper trading on embedded demo candles; no keys, no network).
# Extra arguments are passed to `bot live`.
set -euo pipefail
cd "$(dirname "$0")"
source ./bootstrap.sh
exec bot live "$@"
