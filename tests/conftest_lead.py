"""Helpers for the replay/baseline/live tests (imported explicitly: `from conftest_lead import ...`)."""
from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "ohlcv"
SHARED_OHLCV = Path(os.environ.get("SHARED_OHLCV_DIR", ROOT.parent / "shared" / "data" / "ohlcv"))


def run_main(prog: str, *args: str) -> tuple[int, str, str]:
    """Run `bot ARGS` / `journal ARGS` in-process through cli.main (same exit-code mapping)."""
    from cli.main import bot_main, journal_main

    entry = bot_main if prog == "bot" else journal_main
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [prog, *map(str, args)]
    rc = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            entry()
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return rc, out.getvalue(), err.getvalue()


def backtest(journal: Path, *extra: str, data: Path = FIXTURES, bars: int | None = 400) -> Path:
    """A small real backtest (BTC + ETH fixtures) into `journal`."""
    args = ["backtest", "--data", str(data), "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
            "--journal", str(journal), *extra]
    if bars is not None:
        args += ["--bars", str(bars)]
    rc, out, err = run_main("bot", *args)
    assert rc == 0, err
    return journal
