"""Property: on any set of trades, the SQL metrics equal a plain-Python recomputation and are never NaN/inf."""
import math
import statistics

import pandas as pd
from hypothesis import given, settings, strategies as st

from projections.metrics import report_metrics

pnl = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2))
trade = st.tuples(pnl, st.floats(min_value=1.0, max_value=1e5), st.floats(min_value=1e-3, max_value=1e3),
                  st.sampled_from(["long", "short"]), st.integers(min_value=0, max_value=10**6))


def frame(rows):
    return pd.DataFrame({
        "trade_id": [f"t{i:05d}" for i in range(len(rows))],
        "side": [r[3] for r in rows],
        "entry_ts": [i * 10**7 for i in range(len(rows))],
        "exit_ts": [i * 10**7 + r[4] for i, r in enumerate(rows)],
        "entry_price": [r[1] for r in rows], "qty": [r[2] for r in rows], "pnl": [r[0] for r in rows],
    })


@settings(max_examples=40, deadline=None)
@given(st.lists(trade, max_size=25))
def test_metrics_match_plain_python_and_stay_finite(rows):
    m = report_metrics(frame(rows))
    for key, value in m.items():
        assert not (isinstance(value, float) and not math.isfinite(value)), key
    pnls = [r[0] for r in rows]
    wins, losses = [p for p in pnls if p > 0], [p for p in pnls if p <= 0]
    assert (m["trades"], m["wins"], m["losses"]) == (len(rows), len(wins), len(losses))
    if not rows:
        assert m["expectancy"] is None and m["win_rate"] is None
        return
    assert math.isclose(m["expectancy"], statistics.mean(pnls), rel_tol=1e-9, abs_tol=1e-6)
    assert m["win_rate"] == len(wins) / len(rows)
    if losses and sum(losses) < 0:
        assert math.isclose(m["profit_factor"], sum(wins) / -sum(losses), rel_tol=1e-9)
    else:
        assert m["profit_factor"] is None and m["profit_factor_note"]
    returns = [r[0] / (r[1] * r[2]) for r in rows]
    if len(rows) >= 2 and statistics.stdev(returns) > 0:
        assert math.isclose(m["sharpe"], statistics.mean(returns) / statistics.stdev(returns),
                            rel_tol=1e-6, abs_tol=1e-9)
    elif m["sharpe"] is None:
        assert m["sharpe_note"]
    streak = best = 0
    for p in pnls:
        streak = streak + 1 if p > 0 else 0
        best = max(best, streak)
    assert m["max_win_streak"] == best
