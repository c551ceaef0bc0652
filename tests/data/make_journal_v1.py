"""Writes tests/data/journal_v1/: a small journal exactly as schema v1 wrote it (the golden file).

Schema v1 differs from today's v2 in two ways that the upcaster (journal/upcast.py) undoes:
- the stop event was `stop_updated` with `price` and a free-text `why`
  (v2: `stop_moved` with `stop_price` and `reason`);
- `order_filled` had no `fee_asset`.
Run it only to regenerate the fixture (the bytes are deterministic):
    .venv/bin/python tests/data/make_journal_v1.py [OUT_DIR]
"""
from __future__ import annotations

import sys
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from journal.framing import GENESIS, chain, frame, pack_header, segment_name  # noqa: E402

V1 = 1
H = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
RECORDED_AT = 1_704_100_000_000

EVENTS_V1: list[dict] = [
    {"kind": "session_started", "ts": T0, "run_id": "golden-v1", "mode": "backtest", "version": "0.0.1",
     "config_digest": "3f1c0de5", "symbols": ["BTC/USDT"], "timeframe": "1h", "settings": {"donchian_len": 20}},
    {"kind": "candle_closed", "ts": T0, "symbol": "BTC/USDT", "timeframe": "1h", "open": 42000.0,
     "high": 42800.0, "low": 41900.0, "close": 42750.0, "volume": 812.5},
    {"kind": "signal_detected", "ts": T0, "symbol": "BTC/USDT", "side": "long", "close": 42750.0,
     "channel_high": 42600.0, "channel_low": 40100.0, "atr": 520.0},
    {"kind": "order_submitted", "ts": T0, "client_id": "djb-btc-1-entry", "symbol": "BTC/USDT", "side": "buy",
     "order_kind": "market", "qty": 0.077, "purpose": "entry"},
    {"kind": "order_filled", "ts": T0 + H, "client_id": "djb-btc-1-entry", "symbol": "BTC/USDT",
     "fill_id": "djb-btc-1-entry-1", "side": "buy", "qty": 0.077, "price": 42760.0, "fee": 1.64626,
     "purpose": "entry"},
    {"kind": "stop_updated", "ts": T0, "symbol": "BTC/USDT", "side": "long", "price": 41450.0, "why": "initial"},
    {"kind": "candle_closed", "ts": T0 + H, "symbol": "BTC/USDT", "timeframe": "1h", "open": 42760.0,
     "high": 43900.0, "low": 42700.0, "close": 43850.0, "volume": 955.0},
    {"kind": "stop_updated", "ts": T0 + H, "symbol": "BTC/USDT", "side": "long", "price": 42760.0,
     "why": "breakeven", "prev_stop": 41450.0},
    {"kind": "candle_closed", "ts": T0 + 2 * H, "symbol": "BTC/USDT", "timeframe": "1h", "open": 43850.0,
     "high": 43870.0, "low": 42500.0, "close": 42600.0, "volume": 1020.0},
    {"kind": "order_filled", "ts": T0 + 2 * H, "client_id": "djb-btc-1-stop", "symbol": "BTC/USDT",
     "fill_id": "djb-btc-1-stop-1", "side": "sell", "qty": 0.077, "price": 42760.0, "fee": 1.64626,
     "purpose": "stop"},
    {"kind": "position_closed", "ts": T0 + 2 * H, "symbol": "BTC/USDT", "side": "long", "trade_id": "djb-btc-1",
     "qty": 0.077, "entry_ts": T0 + H, "entry_price": 42760.0, "exit_price": 42760.0, "pnl": -3.29252,
     "fees": 3.29252, "reason": "breakeven"},
]


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    prev = GENESIS
    body = bytearray(pack_header(1, GENESIS))
    for seq, event in enumerate(EVENTS_V1, start=1):
        payload = msgspec.msgpack.encode([seq, event["ts"], RECORDED_AT + seq, V1, prev, event])
        body += frame(payload)
        prev = chain(prev, payload)
    (out / segment_name(1)).write_bytes(bytes(body))


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "journal_v1")
