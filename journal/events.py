"""The event vocabulary: one msgspec tagged union of frozen, kw_only Structs.

Every event carries `ts`, its event time in int ms UTC (a candle's open time, the
exchange's fill time, ...). That is the only time the core ever sees. The recording
wall time lives in the journal envelope (`journal.record.Envelope`), never here.

Rules (see STYLE.md "Events"):
- tags are explicit, stable snake_case strings, never class or module names;
- a new field is added with a default (old journals still decode);
- a reshaped or renamed event gets a new tag plus an upcaster in `journal.upcast`;
- an event class is never deleted.

Events are split into *inputs* (facts from the outside world: candles, exchange
answers, operator requests) and *decisions* (what `machine.decide` returned).
`journal replay` re-runs the decider over the inputs and compares the decisions.
"""
from __future__ import annotations

from typing import Any, Literal, Union

import msgspec

SCHEMA_VERSION = 2
"""Version written by this code. v1 journals are upcast on read (journal.upcast)."""

Side = Literal["long", "short"]
OrderSide = Literal["buy", "sell"]
OrderKind = Literal["market", "limit", "stop_market", "take_profit_market"]
OrderPurpose = Literal[
    "entry", "pyramid", "stop", "take_profit", "exit", "manual_close", "emergency", "reconcile"
]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", gc=False):
    """Base of every event. `ts`: event time, int ms UTC.

    `gc=False`: events are values (numbers, strings, tuples, plain dicts from config or the venue) that
    never refer back to themselves, so the cycle collector need not track them. A backtest holds every
    candle and a replay decodes every record: untracked, they cost 16 bytes less each and are never
    traversed by a full collection."""

    ts: int


# --------------------------------------------------------------------------- session / market data (inputs)


class SessionStarted(Event, tag="session_started"):
    """A process started appending. `settings` holds non-secret config only. `code_digest`: the sources
    that recorded the session (cli/code_version.py), kept out of `journal stats`' content digest."""

    run_id: str
    mode: str  # backtest | paper | live | testnet
    version: str
    config_digest: str
    symbols: tuple[str, ...] = ()
    timeframe: str = "1h"
    settings: dict[str, Any] = {}
    code_digest: str = ""  # the last field: the content digest drops it by key (journal/stats.py)


class MarketLoaded(Event, tag="market_loaded"):
    """Venue rules for a symbol, handed to the core as data (tick, step, min notional)."""

    symbol: str
    tick_size: float
    step_size: float
    min_qty: float = 0.0
    min_notional: float = 0.0


class CandleClosed(Event, tag="candle_closed"):
    """A closed bar. `ts` is the bar's open time.

    `warmup`: history fetched at live start-up (the `lookback` bars). It updates the
    indicators but the core decides nothing on it: no order is ever sent for the past."""

    symbol: str
    timeframe: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    warmup: bool = False


class EquityObserved(Event, tag="equity_observed"):
    """Wallet equity reported by the exchange (an input; the core's own mark is EquityMarked)."""

    equity: float
    available: float | None = None
    source: str = "exchange"


class FundingObserved(Event, tag="funding_observed"):
    symbol: str
    rate: float
    next_funding_ts: int


class ClockObserved(Event, tag="clock_observed"):
    """Exchange time vs local time, measured by the shell (drift_ms = exchange - local)."""

    drift_ms: int
    source: str = "exchange"


# --------------------------------------------------------------------------- exchange answers (inputs)


class OrderAccepted(Event, tag="order_accepted"):
    client_id: str
    symbol: str
    exchange_id: str = ""


class OrderRejected(Event, tag="order_rejected"):
    client_id: str
    symbol: str
    reason: str  # low-cardinality: margin, min_notional, rejected, duplicate, reduce_only, ...
    code: int | None = None
    message: str = ""


class OrderFilled(Event, tag="order_filled"):
    """One execution (partial fills allowed). `fill_id` makes application idempotent.

    `ts`: the open time of the bar the fill happened in (backtest/paper) or the
    exchange's fill time (live)."""

    client_id: str
    symbol: str
    fill_id: str
    side: OrderSide
    qty: float
    price: float
    fee: float = 0.0
    fee_asset: str = "USDT"
    purpose: OrderPurpose = "entry"
    cum_qty: float | None = None
    order_qty: float | None = None


class OrderCanceled(Event, tag="order_canceled"):
    client_id: str
    symbol: str
    reason: str = "requested"


class ErrorObserved(Event, tag="error_observed"):
    """An exchange or runtime error. reason is low-cardinality:
    auth, nonce, time_drift, network, rate_limit, margin, rejected, internal."""

    reason: str
    source: str = "exchange"
    code: int | None = None
    message: str = ""
    symbol: str | None = None
    client_id: str | None = None


class ReconcileObserved(Event, tag="reconcile_observed"):
    """What the exchange showed at restart: positions, open orders (our prefix) and fills while down."""

    positions: list[dict[str, Any]] = []
    open_orders: list[dict[str, Any]] = []
    equity: float | None = None
    # what the shell found comparing the venue with the journal's open orders, and what it does about
    # it next (each action's venue answer is recorded as an input right after this event)
    differences: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []


# --------------------------------------------------------------------------- operator requests (inputs)


class ManualCloseRequested(Event, tag="manual_close_requested"):
    symbol: str
    reason: str = "manual_close"
    requested_by: str = "cli"


class HaltRequested(Event, tag="halt_requested"):
    symbol: str | None = None  # None = every symbol
    reason: str = "operator"


class ResumeRequested(Event, tag="resume_requested"):
    symbol: str | None = None
    reason: str = "operator"


class ProtectOnlyRequested(Event, tag="protect_only_requested"):
    reason: str = "operator"


class FlattenRequested(Event, tag="flatten_requested"):
    """Operator asks for the flatten emergency policy now (close every open position, block entries)."""

    reason: str = "operator"


class DailyAnchorResetRequested(Event, tag="daily_anchor_reset_requested"):
    """Operator asks to re-anchor the UTC-day equity now (`bot health --reset-daily`, runbook)."""

    reason: str = "operator"


# --------------------------------------------------------------------------- decisions (machine.decide output)


class DailyAnchorReset(Event, tag="daily_anchor_reset"):
    day: str  # YYYY-MM-DD (UTC)
    equity: float


class EquityMarked(Event, tag="equity_marked"):
    """Core's mark-to-market equity: realized cash + unrealized at the bar close."""

    equity: float
    realized: float = 0.0
    unrealized: float = 0.0


class SignalDetected(Event, tag="signal_detected"):
    """An accepted breakout on a closed bar (ts = the bar's open time)."""

    symbol: str
    side: Side
    close: float
    channel_high: float
    channel_low: float
    atr: float


class SignalFiltered(Event, tag="signal_filtered"):
    """A breakout that was seen but not traded, with why (nothing is silently dropped).

    reason: daily_loss, funding_window, reentry_blocked, halted, cap, min_notional,
    protect_only, warmup, not_flat, ..."""

    symbol: str
    side: Side
    reason: str
    close: float
    channel_high: float
    channel_low: float
    atr: float


class EntryPlanned(Event, tag="entry_planned"):
    symbol: str
    side: Side
    qty: float
    ref_price: float
    stop_price: float
    atr: float
    risk_amount: float
    notional: float
    equity: float


class OrderSubmitted(Event, tag="order_submitted"):
    """Intent to place an order. Durable before it is sent; client_id is deterministic."""

    client_id: str
    symbol: str
    side: OrderSide
    order_kind: OrderKind
    qty: float
    purpose: OrderPurpose
    price: float | None = None
    stop_price: float | None = None
    reduce_only: bool = False


class OrderCancelRequested(Event, tag="order_cancel_requested"):
    client_id: str
    symbol: str
    reason: str = "replaced"


class StopMoved(Event, tag="stop_moved"):
    """Every stop set or moved. reason: initial, trail, breakeven, pyramid, reconcile, fallback."""

    symbol: str
    side: Side
    stop_price: float
    reason: str
    prev_stop: float | None = None


class PyramidAdded(Event, tag="pyramid_added"):
    symbol: str
    side: Side
    level: int
    qty: float
    trigger_price: float


class PositionClosed(Event, tag="position_closed"):
    """A round trip ended. pnl is net of fees. reason: stop, trail, breakeven, take_profit,
    manual_close, emergency, reconcile."""

    symbol: str
    side: Side
    trade_id: str
    qty: float
    entry_ts: int
    entry_price: float
    exit_price: float
    pnl: float
    fees: float
    reason: str


class StructuralReset(Event, tag="structural_reset"):
    """Price closed back inside the channel: same-direction re-entry allowed again."""

    symbol: str
    side: Side


class KillSwitchTripped(Event, tag="kill_switch_tripped"):
    reason: str  # error_burst, time_drift, operator
    error_seqs: tuple[int, ...] = ()
    error_reasons: tuple[str, ...] = ()
    window_sec: int = 0
    max_errors: int = 0


class EmergencyAction(Event, tag="emergency_action"):
    """An emergency step and its outcome. reason: order_error, missing_handler,
    no_response, not_profitable, ok."""

    policy: str  # protect_only | flatten
    action: str  # ensure_stop | fallback_stop | close | switch_testnet | block_entries
    outcome: str  # done | skipped | failed
    reason: str = "ok"
    symbol: str | None = None
    trigger: str = ""


class Halted(Event, tag="halted"):
    symbol: str | None = None
    reason: str = ""


class Resumed(Event, tag="resumed"):
    symbol: str | None = None
    reason: str = ""


class Reconciled(Event, tag="reconciled"):
    """Result of restart reconciliation: each difference found and what was done."""

    differences: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []


class ManualClose(Event, tag="manual_close"):
    """The core accepted an operator close (exit_reason_code=manual_close)."""

    symbol: str
    reason: str = "manual_close"


class ErrorRaised(Event, tag="error_raised"):
    """A broken invariant in the core: `illegal_transition` halts the symbol; `late_fill` (a partial
    entry or pyramid filled after its position closed) is closed at once and trading goes on."""

    symbol: str | None
    reason: str
    detail: str = ""


# --------------------------------------------------------------------------- journal housekeeping


class JournalRecovered(Event, tag="journal_recovered"):
    """A torn tail was cut into quarantine on open."""

    segment: str
    offset: int
    cut_bytes: int
    quarantine_file: str
    last_good_seq: int


AnyEvent = Union[
    SessionStarted,
    MarketLoaded,
    CandleClosed,
    EquityObserved,
    FundingObserved,
    ClockObserved,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCanceled,
    ErrorObserved,
    ReconcileObserved,
    ManualCloseRequested,
    HaltRequested,
    ResumeRequested,
    ProtectOnlyRequested,
    DailyAnchorResetRequested,
    FlattenRequested,
    DailyAnchorReset,
    EquityMarked,
    SignalDetected,
    SignalFiltered,
    EntryPlanned,
    OrderSubmitted,
    OrderCancelRequested,
    StopMoved,
    PyramidAdded,
    PositionClosed,
    StructuralReset,
    KillSwitchTripped,
    EmergencyAction,
    Halted,
    Resumed,
    Reconciled,
    ManualClose,
    ErrorRaised,
    JournalRecovered,
]

ALL_EVENT_TYPES: tuple[type[Event], ...] = AnyEvent.__args__  # type: ignore[attr-defined]
TAGS: dict[str, type[Event]] = {cls.__struct_config__.tag: cls for cls in ALL_EVENT_TYPES}

INPUT_TYPES: tuple[type[Event], ...] = (
    SessionStarted,
    MarketLoaded,
    CandleClosed,
    EquityObserved,
    FundingObserved,
    ClockObserved,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCanceled,
    ErrorObserved,
    ReconcileObserved,
    ManualCloseRequested,
    HaltRequested,
    ResumeRequested,
    ProtectOnlyRequested,
    DailyAnchorResetRequested,
    FlattenRequested,
    JournalRecovered,
)
"""Facts from outside the core. Everything else is a decision that replay must reproduce."""

DECISION_TYPES: tuple[type[Event], ...] = tuple(t for t in ALL_EVENT_TYPES if t not in INPUT_TYPES)


def kind_of(event: Event) -> str:
    """The stable tag of an event (its `kind` in SQL and JSON)."""
    return type(event).__struct_config__.tag  # type: ignore[return-value]


def is_input(event: Event) -> bool:
    return isinstance(event, INPUT_TYPES)
