"""`bot tune` through its command line: honest OOS, the CSV, the ranking, bad input."""
from __future__ import annotations

import json

import pytest

from conftest_tune import FIXTURES, SMALL, SYMBOLS, clean_env, run_bot, tune, write_grid  # noqa: F401

METRIC_KEYS = ("trades", "win_rate", "expectancy", "profit_factor", "sharpe", "mdd", "total_return", "net_pnl")


def report_of(journal) -> dict:
    rc, out, err = run_bot("report", "--journal", journal, "--json")
    assert rc == 0, err
    return json.loads(out)


def backtest_json(journal, config, start: str, end: str) -> dict:
    rc, out, err = run_bot("backtest", "--data", FIXTURES, "--symbols", *SYMBOLS, "--timeframe", "1h",
                           "--start", start, "--end", end, "--config", config, "--journal", journal, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_oos_metrics_equal_bot_backtest_over_the_oos_window_with_the_chosen_params(tmp_path, clean_env):
    best_config = tmp_path / "best.json"
    doc, rows = tune(tmp_path, "--best-config", best_config)
    windows, best = doc["windows"], doc["best"]
    assert best is not None and doc["oos"]["trades"] > 0
    assert json.loads(best_config.read_text())["donchian_len"] == best["params"]["donchian_len"]
    summary = backtest_json(tmp_path / "oos", best_config, windows["oos_start"], windows["oos_end"])
    report = report_of(tmp_path / "oos")
    for key, value in doc["oos"].items():  # every report metric, long/short included, exactly
        assert report[key] == value, key
    assert summary["trades"] == doc["oos"]["trades"]
    assert summary["pnl"] == round(doc["oos"]["net_pnl"], 2)
    assert doc["oos_backtest"].split("--start ")[1].startswith(windows["oos_start"])


def test_train_metrics_of_the_best_equal_bot_backtest_over_the_train_window(tmp_path, clean_env):
    best_config = tmp_path / "best.json"
    doc, _ = tune(tmp_path, "--best-config", best_config)
    windows = doc["windows"]
    backtest_json(tmp_path / "train", best_config, windows["train_start"], windows["train_end"])
    report = report_of(tmp_path / "train")
    assert {k: report[k] for k in METRIC_KEYS} == {k: doc["best"]["train"][k] for k in METRIC_KEYS}


def test_windows_are_the_last_oos_days_and_the_days_before_them(tmp_path, clean_env):
    doc, _ = tune(tmp_path)
    w = doc["windows"]
    # fixtures end with the bar opened 2026-02-19T17:00Z: the data ends (exclusive) one hour later
    assert w == {"train_start": "2026-01-12T18:00:00Z", "train_end": "2026-02-11T18:00:00Z",
                 "oos_start": "2026-02-11T18:00:00Z", "oos_end": "2026-02-19T18:00:00Z"}


def test_csv_holds_every_trial_ranked_by_score_and_the_best_is_rank_one(tmp_path, clean_env):
    grid = {"donchian_len": [10, 20, 30], "atr_stop_k": [1.0, 2.0], "risk_pct": [0.01]}
    doc, rows = tune(tmp_path, grid=grid)
    assert [int(r["rank"]) for r in rows] == list(range(1, 7))
    assert sorted(int(r["trial"]) for r in rows) == list(range(6))
    assert {(int(r["donchian_len"]), float(r["atr_stop_k"]), float(r["risk_pct"])) for r in rows} == {
        (d, k, 0.01) for d in (10, 20, 30) for k in (1.0, 2.0)}
    assert all(float(r["atr_trail_k"]) == 2.5 for r in rows)  # left out of the grid: the base config's value
    scores = [float(r["score"]) for r in rows if r["score"]]
    assert scores == sorted(scores, reverse=True)
    top = rows[0]
    assert doc["best"]["trial"] == int(top["trial"]) and doc["best"]["score"] == float(top["score"])
    for row in rows:
        expected = float(row["total_return"]) / max(float(row["mdd"]), 0.01)
        assert row["score"] == "" or float(row["score"]) == pytest.approx(expected, rel=1e-12)


def test_too_few_trades_leaves_trials_unscored_and_no_oos_run(tmp_path, clean_env):
    doc, rows = tune(tmp_path, "--min-trades", "100000")
    assert doc["best"] is None and doc["oos"] is None
    assert all(r["score"] == "" for r in rows) and len(rows) == 4


def test_random_search_is_seeded(tmp_path, clean_env):
    grid = {"donchian_len": [10, 15, 20, 25], "atr_stop_k": [1.0, 1.5, 2.0]}
    extra = ("--search", "random", "--trials", "3")
    a = tune(tmp_path, *extra, "--seed", "7", grid=grid, name="a.csv")[1]
    b = tune(tmp_path, *extra, "--seed", "7", grid=grid, name="b.csv")[1]
    assert a == b and len(a) == 3
    combos = {(r["donchian_len"], r["atr_stop_k"]) for r in a}
    assert len(combos) == 3


@pytest.mark.parametrize("grid_text, needle", [
    ("{not json", "not JSON"),
    ('{"donchian": [10]}', "unknown key 'donchian'"),
    ('{"donchian_len": []}', "non-empty list"),
    ('{"donchian_len": [10.5]}', "integers"),
    ('{"risk_pct": [0.9]}', "risk_pct"),
    ('[1, 2]', "JSON object"),
])
def test_bad_grid_is_bad_input_in_one_line(tmp_path, clean_env, grid_text, needle):
    grid = tmp_path / "grid.json"
    grid.write_text(grid_text)
    rc, out, err = run_bot("tune", "--data", FIXTURES, *SMALL, "--grid", grid, "--out", tmp_path / "t.csv")
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("args, needle", [
    (("--days", "60", "--oos-days", "8"), "need data from"),
    (("--days", "0", "--oos-days", "8"), "--days 0"),
    (("--days", "30", "--oos-days", "8", "--workers", "0"), "--workers 0"),
    (("--days", "30", "--oos-days", "8", "--search", "annealing"), "--search"),
    (("--days", "30", "--oos-days", "8", "--symbols", "DOGE/USDT"), "DOGE_USDT"),
    (("--days", "30", "--oos-days", "8", "--dask", "tcp://127.0.0.1:9"), "--dask"),
    (("--days", "30", "--oos-days", "8", "--dask", "tcp://127.0.0.1:9", "--workers", "2"), "exclude each other"),
])
def test_bad_arguments_are_bad_input_in_one_line(tmp_path, clean_env, args, needle):
    grid = write_grid(tmp_path / "grid.json", {"donchian_len": [10]})
    rc, out, err = run_bot("tune", "--data", FIXTURES, "--grid", grid, "--out", tmp_path / "t.csv", *args)
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "t.csv").exists()


def test_missing_data_dir_is_bad_input(tmp_path, clean_env):
    rc, out, err = run_bot("tune", "--data", tmp_path / "nowhere", *SMALL)
    assert rc == 2 and "nowhere" in err and len(err.strip().splitlines()) == 1, err


def test_table_output_names_the_best_and_the_reproducing_backtest(tmp_path, clean_env):
    grid = write_grid(tmp_path / "grid.json", {"donchian_len": [10, 20]})
    rc, out, err = run_bot("tune", "--data", FIXTURES, *SMALL, "--grid", grid, "--min-trades", "3",
                           "--out", tmp_path / "t.csv", "--best-config", tmp_path / "best.json")
    assert rc == 0, err
    assert "best: trial" in out and "OOS 2026-02-11T18:00:00Z" in out
    assert "bot backtest --data" in out and "--start 2026-02-11T18:00:00Z" in out


def test_a_gap_in_the_candles_is_bad_input_naming_the_file_and_row(tmp_path, clean_env):
    folder = tmp_path / "data" / "1h"
    folder.mkdir(parents=True)
    for name in ("BTC_USDT.csv", "ETH_USDT.csv"):
        lines = (FIXTURES / "1h" / name).read_text().splitlines(keepends=True)
        if name == "ETH_USDT.csv":
            del lines[500]  # data row 500 gone: a one-bar gap
        (folder / name).write_text("".join(lines))
    rc, out, err = run_bot("tune", "--data", tmp_path / "data", *SMALL, "--out", tmp_path / "t.csv")
    assert rc == 2 and "ETH_USDT.csv: row 500: gap" in err and len(err.strip().splitlines()) == 1, err


def test_unwritable_output_paths_are_bad_input(tmp_path, clean_env):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    grid = write_grid(tmp_path / "grid.json", {"donchian_len": [10]})
    rc, out, err = run_bot("tune", "--data", FIXTURES, *SMALL, "--grid", grid, "--out", blocker / "t.csv")
    assert rc == 2 and "--out" in err and len(err.strip().splitlines()) == 1, err
    rc, out, err = run_bot("tune", "--data", FIXTURES, *SMALL, "--grid", grid, "--min-trades", "1",
                           "--out", tmp_path / "t.csv", "--best-config", blocker / "best.json")
    assert rc == 2 and "--best-config" in err and len(err.strip().splitlines()) == 1, err
