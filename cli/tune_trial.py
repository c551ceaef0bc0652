"""One tuning trial: a backtest of some candles under some params, reduced to report metrics.

It drives the very loop `bot backtest` drives (`cli.loop.RunLoop` over a `PaperExchange`,
the same session and run id as `cli.bootstrap.backtest_runtime`), but records into a
sink that keeps nothing: the trades (`PositionClosed`) and the equity series (the first
`DailyAnchorReset` as its start, then the `EquityMarked`, in journal order) are collected
by an observer instead, and the metrics come from `projections.metrics.report_metrics`,
the definitions `bot report` uses. So a trial's figures equal `bot report` on the journal of the same backtest.

Runs in a worker process or on a dask worker: the candles arrive as msgpack bytes
(`encode_candles`), the params as a `Params` value; no file or clock is touched.
"""
from __future__ import annotations

from typing import Any, Sequence

import msgspec

from cli.bootstrap import app_version, backtest_run_id
from cli.clock import FixedIds
from cli.loop import RunLoop
from exchange.paper import PaperExchange
from journal.events import CandleClosed, DailyAnchorReset, EquityMarked, Event, PositionClosed, SessionStarted
from machine.params import Params

_CANDLES = msgspec.msgpack.Decoder(list[CandleClosed])
_ENCODER = msgspec.msgpack.Encoder()


def encode_candles(candles: Sequence[CandleClosed]) -> bytes:
    return _ENCODER.encode(list(candles))


def decode_candles(blob: bytes) -> list[CandleClosed]:
    return _CANDLES.decode(blob)


class DiscardingSink:
    """A `JournalSink` that keeps nothing: a trial needs the metrics, not the records."""

    def append(self, events: Sequence[Event], durable: bool = False) -> None:
        return None

    def flush(self) -> None:
        return None


class TradeRecorder:
    """Observer collecting the rows of the `trades` and `equity` views as the loop emits them."""

    def __init__(self) -> None:
        self.seq = 0
        self.session_ts: int | None = None
        self.trades: list[dict[str, Any]] = []
        self.equity: list[tuple[int, float, int]] = []

    def observe(self, event: Event) -> None:
        self.seq += 1
        if type(event) is EquityMarked:
            self.equity.append((event.ts, event.equity, self.seq))
        elif type(event) is DailyAnchorReset and not self.equity:
            # the run's start, as the `equity` view has it (a backtest observes no wallet equity)
            start = event.ts if self.session_ts is None else min(self.session_ts, event.ts)
            self.equity.append((start, event.equity, self.seq))
        elif type(event) is SessionStarted and self.session_ts is None:
            self.session_ts = event.ts
        elif type(event) is PositionClosed:
            self.trades.append({
                "trade_id": event.trade_id, "symbol": event.symbol, "side": event.side,
                "entry_ts": event.entry_ts, "exit_ts": event.ts, "entry_price": event.entry_price,
                "exit_price": event.exit_price, "qty": event.qty, "pnl": event.pnl, "fees": event.fees,
                "exit_reason": event.reason,
            })


def backtest_recorder(params: Params, candles: Sequence[CandleClosed], symbols: Sequence[str],
                      timeframe: str) -> TradeRecorder:
    """Run the backtest loop exactly as `backtest_runtime` wires it, without a journal."""
    recorder = TradeRecorder()
    exchange = PaperExchange(fee_rate=params.fee_rate, slippage_bps=params.slippage_bps,
                             initial_equity=params.initial_equity)
    loop = RunLoop(exchange=exchange, journal=DiscardingSink(), params=params, durable=False,
                   observers=(recorder.observe,))
    start = candles[0].ts if candles else 0
    session = SessionStarted(
        ts=start, run_id=FixedIds(backtest_run_id(params, candles)).run_id("backtest"), mode="backtest",
        version=app_version(), config_digest="", symbols=tuple(symbols), timeframe=timeframe,
        settings={"params": msgspec.to_builtins(params)})
    loop.start(session)
    for candle in candles:
        loop.feed(candle)
    loop.flush()
    return recorder


def trial_metrics(params: Params, candles: Sequence[CandleClosed], symbols: Sequence[str],
                  timeframe: str) -> dict[str, Any]:
    """The `bot report` metrics (flat, long/short nested) of a backtest of `candles` under `params`."""
    import pandas as pd

    from projections.metrics import report_metrics

    recorder = backtest_recorder(params, candles, symbols, timeframe)
    trades = pd.DataFrame(recorder.trades, columns=[
        "trade_id", "symbol", "side", "entry_ts", "exit_ts", "entry_price", "exit_price", "qty", "pnl", "fees",
        "exit_reason"])
    equity = pd.DataFrame(recorder.equity, columns=["ts", "equity", "seq"])
    return report_metrics(trades, equity)


def run_trial(index: int, params: Params, blob: bytes, symbols: Sequence[str], timeframe: str
              ) -> tuple[int, dict[str, Any]]:
    """The unit of work an executor runs: (trial index, metrics). Picklable in and out."""
    return index, trial_metrics(params, decode_candles(blob), symbols, timeframe)
