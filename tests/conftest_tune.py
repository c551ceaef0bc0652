"""Helpers for the `bot tune` tests (imported explicitly: `from conftest_tune import ...`)."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "ohlcv"
SYMBOLS = ("BTC/USDT", "ETH/USDT")
SMALL = ("--days", "30", "--oos-days", "8")
"""The fixtures hold 1000 1h bars (~41.7 days): 30 train + 8 OOS days fit, with room to spare."""


def config_env_keys() -> list[str]:
    """Environment variables `cli.config` would read (BOT_CONFIG_JSON and every upper-cased key)."""
    from cli.config_schema import BotConfig

    return ["BOT_CONFIG_JSON", *(k.upper() for k in BotConfig.__struct_fields__)]


@pytest.fixture
def clean_env(monkeypatch):
    """No stray config from the environment can change a backtest under test."""
    for key in config_env_keys():
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("BASELINE_OHLCV_DIR", raising=False)


def run_bot(*args: str | Path) -> tuple[int, str, str]:
    """`bot ARGS` in this process through cli.main (the real exit-code mapping)."""
    from cli.main import bot_main

    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["bot", *map(str, args)]
    rc = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            bot_main()
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return rc, out.getvalue(), err.getvalue()


def write_grid(path: Path, grid: dict) -> Path:
    path.write_text(json.dumps(grid))
    return path


def tune(tmp: Path, *extra: str | Path, grid: dict | None = None, name: str = "trials.csv"
         ) -> tuple[dict, list[dict]]:
    """`bot tune --json` on the fixtures with a tiny grid; (the JSON document, the CSV rows)."""
    grid_file = write_grid(tmp / f"{name}.grid.json", grid or {"donchian_len": [10, 20], "atr_stop_k": [1.0, 1.5]})
    out = tmp / name
    rc, stdout, stderr = run_bot("tune", "--data", FIXTURES, "--symbols", *SYMBOLS, *SMALL, "--grid", grid_file,
                                 "--min-trades", "3", "--out", out, "--json", *extra)
    assert rc == 0, stderr
    return json.loads(stdout), read_csv(out)


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def subprocess_env() -> dict[str, str]:
    drop = set(config_env_keys()) | {"BASELINE_OHLCV_DIR"}
    return {k: v for k, v in os.environ.items() if k not in drop}
