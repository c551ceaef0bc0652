"""Emergency policies (the runbook), as pure decisions.

A trigger (kill switch, daily drawdown, a stop that cannot be placed twice, reconciliation
finding a naked position, an operator request) runs the configured policy:
- `protect_only`: every open position keeps (or gets back) a reduce-only stop; entries blocked.
- `flatten`: every open position is closed by a reduce-only market order, unless its
  unrealized pnl% is below `emergency_min_pnl_to_close_pct` (then it is kept, protected,
  and the skip is recorded as `not_profitable`); entries blocked.
Every outcome is an `EmergencyAction` with a low-cardinality reason (ok, order_error,
missing_handler, no_response, not_profitable), so the audit and metrics count them.
Order ids come from the caller's `Out` so one decide call never numbers an id twice.
"""
from __future__ import annotations

from typing import Final

import machine.decide_orders as orders
from journal import events as ev
from machine.emit import Out, close_side
from machine.params import Params
from machine.risk import daily_loss_hit, stop_toward_price
from machine.state import EMPTY_SYM, OrderRec, State, Sym, market_of

# Event classes as Final names: compiled (build_core.py), they are read from a C static, not looked up.
_EmergencyAction: Final = ev.EmergencyAction
_Halted: Final = ev.Halted
_OrderRejected: Final = ev.OrderRejected
_StopMoved: Final = ev.StopMoved

DAY_MS: Final = 86_400_000
POLICIES = ("protect_only", "flatten")


def pnl_pct(state: State, symbol: str, sym: Sym) -> float:
    """Unrealized pnl of the position as a fraction of its cost, at the symbol's last close."""
    pos = sym.pos
    assert pos is not None
    ind = state.ind.get(symbol)
    last = ind.close if ind is not None else pos.avg_price
    move = (last - pos.avg_price) / pos.avg_price
    return move if pos.side == "long" else -move


def action_event(ts: int, policy: str, action: str, outcome: str, reason: str, symbol: str | None,
                 trigger: str) -> ev.EmergencyAction:
    return _EmergencyAction(ts=ts, policy=policy, action=action, outcome=outcome, reason=reason, symbol=symbol,
                            trigger=trigger)


def protect(state: State, ts: int, symbol: str, sym: Sym, p: Params, emit: Out, trigger: str, policy: str) -> None:
    """Keep the live stop, or place one where the position has none."""
    if sym.pos is None or sym.exit_id is not None:
        return
    placed = sym.stop_id is None
    if placed:
        orders.ensure_stop(state, ts, symbol, sym, p, emit)
    emit.add(action_event(ts, policy, "ensure_stop", "done", "ok", symbol, trigger))


def close(state: State, ts: int, symbol: str, sym: Sym, p: Params, emit: Out, trigger: str,
          keep_stop: bool = True) -> bool:
    """Reduce-only market close of the whole position; False (and protected, when `keep_stop`) when
    not profitable enough."""
    pos = sym.pos
    if pos is None or sym.exit_id is not None:
        return False
    if pnl_pct(state, symbol, sym) < p.emergency_min_pnl_to_close_pct:
        emit.add(action_event(ts, "flatten", "close", "skipped", "not_profitable", symbol, trigger))
        if keep_stop:
            protect(state, ts, symbol, sym, p, emit, trigger, "flatten")
        return False
    close_now(ts, symbol, sym, emit, trigger, "flatten", "ok")
    return True


def close_now(ts: int, symbol: str, sym: Sym, emit: Out, trigger: str, policy: str, reason: str) -> None:
    """Reduce-only market close of the whole position, and cancel what could add to it."""
    pos = sym.pos
    assert pos is not None
    emit.add(action_event(ts, policy, "close", "done", reason, symbol, trigger))
    emit.order(ts, symbol, close_side(pos.side), "market", pos.qty, "emergency", reduce_only=True)
    for client_id in (*sym.tp_ids, sym.pyr_id, sym.entry_id):  # entry: a partial entry's remainder
        emit.cancel(ts, symbol, client_id, "emergency")


def apply_policy(state: State, ts: int, trigger: str, p: Params, emit: Out, policy: str | None = None,
                 symbols: tuple[str, ...] | None = None, block: bool = True) -> None:
    """Run `policy` (default: the configured one) over `symbols` (default: every open position).
    `block=False` when entries are blocked already (the kill switch halts every symbol)."""
    policy = policy or p.emergency_policy
    if policy not in POLICIES:
        emit.add(action_event(ts, policy, "close", "failed", "missing_handler", None, trigger))
        return
    if block:
        emit.add(action_event(ts, policy, "block_entries", "done", "ok", None, trigger))
    targets = sorted(state.sym) if symbols is None else symbols
    for symbol in targets:
        sym = state.sym.get(symbol, EMPTY_SYM)
        if policy == "flatten":
            close(state, ts, symbol, sym, p, emit, trigger)
        else:
            protect(state, ts, symbol, sym, p, emit, trigger, policy)


# --------------------------------------------------------------------------- triggers


def on_kill_switch(state: State, e: ev.ErrorObserved, p: Params) -> list[ev.Event]:
    out: list[ev.Event] = []
    apply_policy(state, e.ts, "kill_switch", p, Out(state, out), block=False)
    return out


def daily_dd_tripped(state: State, ts: int, equity: float, p: Params) -> bool:
    """Equity below today's anchor by daily_dd_limit, and the policy has not run today yet."""
    day = (ts + state.bar_ms) // DAY_MS  # the day of the bar's close, as the anchor's
    return (state.anchor_day == day and state.dd_emergency_day != day
            and daily_loss_hit(equity, state.anchor_equity, p.daily_dd_limit))


def on_daily_dd(state: State, ts: int, p: Params, out: list[ev.Event]) -> bool:
    """Run the policy for a daily drawdown; True when it placed orders (the caller stops deciding)."""
    emit = Out(state, out)
    apply_policy(state, ts, "daily_dd", p, emit)
    if p.auto_testnet_on_dd:  # the shell switches a live session to testnet (cli.live_safety)
        emit.add(action_event(ts, p.emergency_policy, "switch_testnet", "done", "ok", None, "daily_dd"))
    return emit.counter != state.counter


def on_stop_rejected(state: State, e: ev.OrderRejected, sym: Sym, p: Params, emit: Out) -> None:
    """A stop refused because the price is already beyond it (Binance -2021, `would_trigger`): close at
    market, whatever the policy. Otherwise, first rejection: a fallback stop `emergency_stop_fallback_pct` from the last price. A rejected
    fallback is the repeated failure: flatten closes (or halts when not profitable enough), protect_only
    records the failure and halts the symbol (no stop can be placed; the operator must act)."""
    pos = sym.pos
    assert pos is not None
    symbol = e.symbol
    policy = p.emergency_policy
    if e.reason == "would_trigger":
        # The market is already through the stop (a fast move, or bars fed late after downtime): a stop
        # cannot rest there and a looser one would be a stop we did not choose. Do what it would have done.
        close_now(e.ts, symbol, sym, emit, "stop_crossed", policy, "would_trigger")
        return
    if sym.stop_reason != "fallback":
        ind = state.ind.get(symbol)
        last = ind.close if ind is not None else pos.avg_price
        pct = p.emergency_stop_fallback_pct
        raw = last * (1.0 - pct) if pos.side == "long" else last * (1.0 + pct)
        market = market_of(state, symbol)
        price = stop_toward_price(pos.side, raw, market.tick, market.tick_dec)
        emit.add(action_event(e.ts, policy, "fallback_stop", "done", "order_error", symbol, "stop_rejected"))
        emit.add(_StopMoved(ts=e.ts, symbol=symbol, side=pos.side, stop_price=price, reason="fallback",
                            prev_stop=sym.stop_price))
        emit.order(e.ts, symbol, close_side(pos.side), "stop_market", pos.qty, "stop", stop_price=price,
                   reduce_only=True)
        return
    emit.add(action_event(e.ts, policy, "fallback_stop", "failed", "order_error", symbol, "stop_failed"))
    halted = sym.phase == "halted"  # an emergency close failed already: stop retrying, the operator acts
    if policy == "flatten" and not halted and close(state, e.ts, symbol, sym, p, emit, "stop_failed", False):
        return
    if policy not in POLICIES:
        emit.add(action_event(e.ts, policy, "ensure_stop", "failed", "missing_handler", symbol, "stop_failed"))
    elif policy == "protect_only":
        emit.add(action_event(e.ts, policy, "ensure_stop", "failed", "order_error", symbol, "stop_failed"))
    if not halted:
        emit.add(_Halted(ts=e.ts, symbol=symbol, reason="stop_failed"))


def close_failed(e: ev.OrderRejected | ev.OrderCanceled, rec: OrderRec) -> list[ev.Event]:
    """An emergency close that ended unfilled (rejected = order_error, anything else = no_response):
    the symbol halts, so a venue refusing everything cannot make close and stop retry forever."""
    if rec.purpose != "emergency":
        return []
    reason = "order_error" if isinstance(e, _OrderRejected) else "no_response"
    return [action_event(e.ts, "flatten", "close", "failed", reason, e.symbol, "close_ended"),
            _Halted(ts=e.ts, symbol=e.symbol, reason="emergency_close_failed")]


def decide_flatten(state: State, e: ev.FlattenRequested, p: Params) -> list[ev.Event]:
    out: list[ev.Event] = []
    apply_policy(state, e.ts, e.reason, p, Out(state, out), policy="flatten")
    return out


def decide_protect_only(state: State, e: ev.ProtectOnlyRequested, p: Params) -> list[ev.Event]:
    out: list[ev.Event] = []
    apply_policy(state, e.ts, e.reason, p, Out(state, out), policy="protect_only")
    return out
