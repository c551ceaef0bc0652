"""The search space, the objective and the split: small rules, checked directly."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from cli.tune_objective import MDD_FLOOR, ranked, score
from cli.tune_space import DEFAULT_GRID, TUNED_KEYS, build_trials, grid_trials, load_grid, random_trials
from cli.tune_window import DAY_MS, split_windows
from journal.errors import BadInput


def test_default_grid_tunes_the_four_knobs_and_every_combination_is_a_trial():
    assert tuple(DEFAULT_GRID) == TUNED_KEYS
    trials = grid_trials(load_grid(None))
    assert len(trials) == np.prod([len(v) for v in DEFAULT_GRID.values()])
    assert [t.index for t in trials] == list(range(len(trials)))
    assert len({tuple(t.values.values()) for t in trials}) == len(trials)


def test_grid_file_keys_come_back_in_tuned_order_with_int_donchian(tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"risk_pct": [0.01, 0.01, 0.02], "donchian_len": [20.0, 10]}')
    grid = load_grid(path)
    assert list(grid) == ["donchian_len", "risk_pct"]
    assert grid["donchian_len"] == (20, 10) and all(type(v) is int for v in grid["donchian_len"])
    assert grid["risk_pct"] == (0.01, 0.02)  # a repeated value would only repeat a trial


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4), count=st.integers(1, 300),
       seed=st.integers(0, 2**32))
def test_random_search_draws_distinct_grid_points_and_the_seed_fixes_them(sizes, count, seed):
    grid = {key: tuple(range(1, n + 1)) for key, n in zip(TUNED_KEYS, sizes)}
    first, again = random_trials(grid, count, seed), random_trials(grid, count, seed)
    assert first == again
    points = [tuple(t.values.values()) for t in first]
    assert len(points) == len(set(points)) == min(count, int(np.prod(sizes)))
    every = {tuple(t.values.values()) for t in grid_trials(grid)}
    assert set(points) <= every
    assert [t.index for t in first] == list(range(len(first)))


def test_random_search_needs_a_positive_trial_count():
    with pytest.raises(BadInput, match="--trials 0"):
        build_trials(dict(DEFAULT_GRID), "random", 0, 1)


def test_score_is_return_over_floored_drawdown_and_needs_min_trades():
    assert score({"trades": 12, "total_return": 0.3, "mdd": 0.15}, 10) == pytest.approx(2.0)
    assert score({"trades": 12, "total_return": 0.05, "mdd": 0.0}, 10) == pytest.approx(0.05 / MDD_FLOOR)
    assert score({"trades": 9, "total_return": 0.3, "mdd": 0.15}, 10) is None
    assert score({"trades": 12, "total_return": None, "mdd": None}, 10) is None


def test_ranking_puts_higher_scores_first_then_unscored_and_breaks_ties_by_trial():
    assert ranked({0: None, 1: 0.5, 2: 2.0, 3: 0.5, 4: -1.0, 5: None}) == [2, 1, 3, 4, 0, 5]


def _write(folder, symbol: str, start_ms: int, bars: int) -> None:
    ts = start_ms + np.arange(bars, dtype=np.int64) * 3_600_000
    frame = pd.DataFrame({"timestamp": ts, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 1.0})
    frame.to_csv(folder / f"{symbol}.csv", index=False)


def test_windows_end_at_the_shortest_symbol_and_need_full_coverage(tmp_path):
    folder = tmp_path / "1h"
    folder.mkdir()
    _write(folder, "AAA_USDT", 0, 24 * 11)  # 11 days from hour 0
    _write(folder, "BBB_USDT", 25 * 3_600_000, 238)  # from hour 25, ends before AAA
    w = split_windows(tmp_path, ("AAA/USDT", "BBB/USDT"), "1h", 7, 2)
    end = (25 + 238) * 3_600_000  # BBB's last bar opens at hour 25 + 237; the data ends an hour later
    assert (w.train_start, w.oos_start, w.end) == (end - 9 * DAY_MS, end - 2 * DAY_MS, end)
    with pytest.raises(BadInput, match="BBB/USDT has 238 1h bars"):
        split_windows(tmp_path, ("AAA/USDT", "BBB/USDT"), "1h", 8, 2)
