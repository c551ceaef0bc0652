"""Account JSON: /fapi/v3/account, /fapi/v3/positionRisk, /fapi/v2/balance, leverage brackets."""
from __future__ import annotations

from exchange.sim.engine import Engine
from exchange.sim.ledger import DUST
from exchange.sim.orders import fmt


def account(engine: Engine, now: int) -> dict:
    marks = engine.marks()
    ledger = engine.ledger
    unrealized, margin = ledger.unrealized(marks), ledger.initial_margin(marks)
    available = ledger.wallet + unrealized - margin
    asset = {
        "asset": "USDT",
        "walletBalance": fmt(ledger.wallet),
        "unrealizedProfit": fmt(unrealized),
        "marginBalance": fmt(ledger.wallet + unrealized),
        "maintMargin": fmt(margin * 0.1),
        "initialMargin": fmt(margin),
        "positionInitialMargin": fmt(margin),
        "openOrderInitialMargin": "0",
        "crossWalletBalance": fmt(ledger.wallet),
        "crossUnPnl": fmt(unrealized),
        "availableBalance": fmt(available),
        "maxWithdrawAmount": fmt(max(available, 0.0)),
        "updateTime": now,
    }
    return {
        "totalInitialMargin": fmt(margin),
        "totalMaintMargin": fmt(margin * 0.1),
        "totalWalletBalance": fmt(ledger.wallet),
        "totalUnrealizedProfit": fmt(unrealized),
        "totalMarginBalance": fmt(ledger.wallet + unrealized),
        "totalPositionInitialMargin": fmt(margin),
        "totalOpenOrderInitialMargin": "0",
        "totalCrossWalletBalance": fmt(ledger.wallet),
        "totalCrossUnPnl": fmt(unrealized),
        "availableBalance": fmt(available),
        "maxWithdrawAmount": fmt(max(available, 0.0)),
        "assets": [asset],
        "positions": [
            {"symbol": s, "positionSide": "BOTH", "positionAmt": fmt(p.qty),
             "unrealizedProfit": fmt(p.qty * (marks.get(s, p.entry_price) - p.entry_price)),
             "isolatedMargin": "0", "notional": fmt(p.qty * marks.get(s, p.entry_price)), "isolatedWallet": "0",
             "initialMargin": "0", "maintMargin": "0", "updateTime": p.update_time}
            for s, p in ledger.positions.items() if abs(p.qty) > DUST
        ],
    }


def balance_v2(engine: Engine, now: int) -> list[dict]:
    a = account(engine, now)["assets"][0]
    return [{"accountAlias": "sim", "asset": "USDT", "balance": a["walletBalance"],
             "crossWalletBalance": a["crossWalletBalance"], "crossUnPnl": a["crossUnPnl"],
             "availableBalance": a["availableBalance"], "maxWithdrawAmount": a["maxWithdrawAmount"],
             "marginAvailable": True, "updateTime": now}]


def position_risk(engine: Engine, symbol: str | None) -> list[dict]:
    marks = engine.marks()
    rows = []
    for s, p in engine.ledger.positions.items():
        if abs(p.qty) <= DUST or (symbol and s != symbol):
            continue
        mark = marks.get(s, p.entry_price)
        notional = p.qty * mark
        margin = abs(notional) / engine.ledger.leverage_of(s)
        rows.append({
            "symbol": s, "positionSide": "BOTH", "positionAmt": fmt(p.qty), "entryPrice": fmt(p.entry_price),
            "breakEvenPrice": fmt(p.entry_price), "markPrice": fmt(mark),
            "unRealizedProfit": fmt(p.qty * (mark - p.entry_price)), "liquidationPrice": "0",
            "isolatedMargin": "0", "notional": fmt(notional), "marginAsset": "USDT", "isolatedWallet": "0",
            "initialMargin": fmt(margin), "maintMargin": fmt(margin * 0.1), "positionInitialMargin": fmt(margin),
            "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
            "updateTime": p.update_time,
        })
    return rows


def leverage_brackets(engine: Engine) -> list[dict]:
    return [{"symbol": s, "notionalCoef": 1.0, "brackets": [
        {"bracket": 1, "initialLeverage": 125, "notionalCap": 50_000_000, "notionalFloor": 0,
         "maintMarginRatio": 0.004, "cum": 0.0}]} for s in engine.series]
