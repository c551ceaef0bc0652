"""How trials are ranked: return over drawdown, once a trial has traded enough.

    score = total_return / max(mdd, MDD_FLOOR)     when trades >= min_trades, else no score

`total_return` and `mdd` are the report's own (equity at the end / the run's initial equity
- 1, and the largest peak-to-trough fall of the equity curve from that start on; the trial
records the curve as the journal's `equity` view has it, see `cli.tune_trial.TradeRecorder`). The floor keeps a lucky run with
almost no drawdown from scoring near infinity. A trial with too few trades says little
about the rules, so it gets no score and ranks after every scored trial. Ties (and the
unscored) keep the trial order, so the ranking is the same on any executor.
"""
from __future__ import annotations

from typing import Any

MDD_FLOOR = 0.01
DEFAULT_MIN_TRADES = 10
OBJECTIVE = "total_return / max(mdd, 0.01), trials with fewer than min_trades trades unscored"


def score(metrics: dict[str, Any], min_trades: int) -> float | None:
    total_return, mdd = metrics.get("total_return"), metrics.get("mdd")
    if metrics.get("trades", 0) < min_trades or total_return is None:
        return None
    return float(total_return) / max(float(mdd or 0.0), MDD_FLOOR)


def ranked(scores: dict[int, float | None]) -> list[int]:
    """Trial indexes, best first: scored by score descending, then unscored; ties by index."""
    return sorted(scores, key=lambda i: (scores[i] is None, -(scores[i] or 0.0), i))
