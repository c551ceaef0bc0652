#!/usr/bin/env bash
# Decision identity check for performance work: two full BTC+ETH 1h backtests on ../shared/data/ohlcv must keep
# their journal content_digest (the same events, byte for byte) and `journal replay` must reproduce every
# decision. Run it before and after any change meant to be behaviour-neutral. The expected digests change only
# with a deliberate change of decisions, journal format or data; then record the new ones here and say why.
#   bash bench/decision_identity.sh
set -uo pipefail
cd "$(dirname "$0")/.."
data="${BASELINE_OHLCV_DIR:-../shared/data/ohlcv}"
fail=0
# identity_config was ba36b5f6...: position_closed.entry_price is now the VWAP of all opening fills (148 trades, only that field)
# both changed again (default was fe81692f..., identity_config 62559ed1...): the daily anchor is now the equity at
# 00:00 UTC, taken at the close of the bar that ends the previous day (656 -> 654 trades by default: entries that
# the day's first-bar loss now blocks as daily_loss)
# both changed again (default was 8a6f2532..., identity_config 44e0ec8c...): the backtest run id now hashes the
# candles as msgpack rows instead of float text (only the run id and the client ids derived from it changed)
# and again (default was ac01b762..., identity_config e3fb8b3e...): the paper venue keeps position quantities to 9
# decimals, so fills after a pyramid add are 3.568, not 3.5679999999999996 (same trades, signals and pnl to the cent)
for spec in "default::77539c362d33a29803672193f4d88cf7" "bench/identity_config.json::e47e51337d53b8af11282b669149b8cc"; do
  cfg="${spec%%::*}"; want="${spec##*::}"
  dir=$(mktemp -d)
  args=(--data "$data" --symbols BTC/USDT ETH/USDT --timeframe 1h --journal "$dir/j" --json)
  [ "$cfg" != default ] && args+=(--config "$cfg")
  .venv/bin/bot backtest "${args[@]}" >/dev/null 2>&1
  got=$(.venv/bin/journal stats "$dir/j" 2>/dev/null | grep content_digest | awk '{print $4}')
  replay=$(.venv/bin/journal replay "$dir/j" 2>&1 | tail -1)
  if [ "$got" = "$want" ] && [ "$replay" = "all decisions reproduce" ]; then
    echo "ok    $cfg  content_digest $got"
  else
    echo "FAIL  $cfg  content_digest $got (want $want); replay: $replay"; fail=1
  fi
  rm -rf "$dir"
done
exit $fail
