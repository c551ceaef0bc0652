"""A realistic, deterministic event mix for `journal bench`: what a 2-symbol 1h run records.

Per symbol and bar: the candle and the core's equity mark; every 7th bar a breakout
(signal, plan, entry order, its acceptance and fill, the initial stop); every 5th bar
a trailing stop move; every 11th a filtered signal. Each bar's events form one
decision batch, which live mode commits with one fsync.
"""
from __future__ import annotations

from journal.events import (
    CandleClosed,
    EntryPlanned,
    EquityMarked,
    Event,
    OrderAccepted,
    OrderFilled,
    OrderSubmitted,
    SignalDetected,
    SignalFiltered,
    StopMoved,
)

HOUR_MS = 3_600_000
START_MS = 1_700_000_000_000 // HOUR_MS * HOUR_MS
SYMBOLS = ("BTC/USDT", "ETH/USDT")


def bar_batch(bar: int, symbol: str, base: float) -> list[Event]:
    ts = START_MS + bar * HOUR_MS
    close = base * (1.0 + 0.01 * ((bar * 7919) % 201 - 100) / 100.0)
    batch: list[Event] = [
        CandleClosed(ts=ts, symbol=symbol, timeframe="1h", open=close * 0.999, high=close * 1.004,
                     low=close * 0.995, close=close, volume=1234.5 + bar % 97),
        EquityMarked(ts=ts, equity=10_000.0 + (bar % 113) * 3.5, realized=12.5, unrealized=-3.25),
    ]
    atr = close * 0.012
    if bar % 7 == 3:
        cid = f"djb-{symbol[:3].lower()}-{bar}-entry"
        qty = round(100.0 / atr, 3)
        stop = round(close - 2.5 * atr, 2)
        batch += [
            SignalDetected(ts=ts, symbol=symbol, side="long", close=close, channel_high=close * 0.998,
                           channel_low=close * 0.95, atr=atr),
            EntryPlanned(ts=ts, symbol=symbol, side="long", qty=qty, ref_price=close, stop_price=stop, atr=atr,
                         risk_amount=100.0, notional=qty * close, equity=10_000.0),
            OrderSubmitted(ts=ts, client_id=cid, symbol=symbol, side="buy", order_kind="market", qty=qty,
                           purpose="entry"),
            OrderAccepted(ts=ts, client_id=cid, symbol=symbol, exchange_id=str(10_000_000 + bar)),
            OrderFilled(ts=ts, client_id=cid, symbol=symbol, fill_id=f"{cid}-1", side="buy", qty=qty,
                        price=close * 1.0002, fee=qty * close * 0.0005, purpose="entry"),
            StopMoved(ts=ts, symbol=symbol, side="long", stop_price=stop, reason="initial"),
        ]
    elif bar % 5 == 1:
        batch.append(StopMoved(ts=ts, symbol=symbol, side="long", stop_price=round(close - 2 * atr, 2),
                               reason="trail", prev_stop=round(close - 2.2 * atr, 2)))
    elif bar % 11 == 0:
        batch.append(SignalFiltered(ts=ts, symbol=symbol, side="short", reason="funding_window", close=close,
                                    channel_high=close * 1.05, channel_low=close * 1.001, atr=atr))
    return batch


def event_batches(n_events: int) -> list[list[Event]]:
    """Decision batches totalling exactly n_events events."""
    batches: list[list[Event]] = []
    total, bar = 0, 0
    while total < n_events:
        for symbol, base in zip(SYMBOLS, (37_000.0, 2_050.0)):
            batch = bar_batch(bar, symbol, base)[: n_events - total]
            if batch:
                batches.append(batch)
                total += len(batch)
        bar += 1
    return batches
