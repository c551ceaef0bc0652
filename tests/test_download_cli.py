"""`bot download` through the real ccxt client against `bot exchange-sim`."""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cli.exchange_cmds  # noqa: F401 - registers the commands
from cli.apps import bot_app
from cli.main import bot_main
from conftest_exchange import DATA, start_sim
from exchange.sim.faults import FaultSpec

H = 3_600_000
BOT = [sys.executable, "-c", "from cli.main import bot_main; bot_main()"]


def bot(*args: str) -> subprocess.CompletedProcess:
    """`bot ...` in-process through the real entry point (exit-code mapping included)."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["bot", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            bot_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def bot_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BOT, *args], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parent.parent)


@pytest.fixture
def sim():
    server = start_sim()
    yield server
    server.stop()


def read(out: Path, name: str = "BTC_USDT") -> pd.DataFrame:
    return pd.read_parquet(out / "1h" / f"{name}.parquet")


def test_download_writes_closed_bars_matching_the_source(sim, tmp_path):
    result = bot("download", "--symbols", "BTC/USDT", "ETH/USDT", "--timeframe", "1h", "--days", "3",
                 "--out", str(tmp_path), "--base-url", sim.url)
    assert result.returncode == 0, result.stderr
    frame = read(tmp_path)
    source = pd.read_csv(DATA / "1h" / "BTC_USDT.csv")
    expected = source[(source.timestamp >= sim.venue.forming - 72 * H) & (source.timestamp < sim.venue.forming)]
    assert len(frame) == 72 and list(frame.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    assert len(read(tmp_path, "ETH_USDT")) == 72


def test_download_resumes_from_the_last_bar(sim, tmp_path):
    args = ("download", "--symbols", "BTC/USDT", "--days", "2", "--out", str(tmp_path), "--base-url", sim.url)
    assert bot(*args).returncode == 0
    sim.step(5)
    second = bot(*args)
    assert second.returncode == 0 and "+5 bars" in second.stdout
    frame = read(tmp_path)
    assert len(frame) == 53 and frame.timestamp.diff().dropna().eq(H).all()


def test_download_paginates_long_histories(tmp_path):
    folder = tmp_path / "src" / "1h"
    folder.mkdir(parents=True)
    t0 = 1_700_000_000_000 - 1_700_000_000_000 % H
    prices = [100.0 + (i % 50) for i in range(2500)]
    pd.DataFrame({"timestamp": [t0 + i * H for i in range(2500)], "open": prices, "high": [p + 1 for p in prices],
                  "low": [p - 1 for p in prices], "close": prices, "volume": 1.0}).to_csv(folder / "SOL_USDT.csv",
                                                                                          index=False)
    from exchange.sim.boot import build_server

    server = build_server(tmp_path / "src", speed=0.0, start=t0 + 2400 * H).start()
    try:
        result = CliRunner().invoke(bot_app, ["download", "--symbols", "SOL/USDT", "--days", "90", "--out",
                                              str(tmp_path / "out"), "--base-url", server.url])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    frame = read(tmp_path / "out", "SOL_USDT")
    assert len(frame) == 2160 and frame.timestamp.iloc[-1] == t0 + 2399 * H  # three pages of <= 1000


def test_download_survives_injected_faults(sim, tmp_path):
    sim.set_faults(FaultSpec(rates={"http_5xx": 0.4, "rate_limit": 0.3}, seed=2))
    result = bot("download", "--symbols", "BTC/USDT", "--days", "20", "--out", str(tmp_path),
                 "--base-url", sim.url)
    assert result.returncode == 0, result.stderr
    assert len(read(tmp_path)) == 480
    assert sum(sim.faults.injected.values()) > 0


def test_download_refuses_a_gap(tmp_path):
    folder = tmp_path / "src" / "1h"
    folder.mkdir(parents=True)
    source = pd.read_csv(DATA / "1h" / "BTC_USDT.csv").drop(index=450)
    source.to_csv(folder / "BTC_USDT.csv", index=False)
    from exchange.sim.boot import build_server

    gappy = build_server(tmp_path / "src", speed=0.0, key="k", secret="s").start()
    try:
        result = bot("download", "--symbols", "BTC/USDT", "--days", "30", "--out", str(tmp_path / "out"),
                     "--base-url", gappy.url)
    finally:
        gappy.stop()
    assert result.returncode == 1 and "gap" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "1h" / "BTC_USDT.parquet").exists()


def test_download_bad_input_exits_2(tmp_path):
    for args in (("--days", "0"), ("--days", "3", "--timeframe", "7x"), ("--days", "3", "NOTASYMBOL")):
        result = bot("download", "--symbols", "BTC/USDT", "--out", str(tmp_path), *args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_exchange_sim_command_serves_on_a_free_port_and_refuses_bad_input(tmp_path):
    process = subprocess.Popen([*BOT, "exchange-sim", "--data", str(DATA), "--port", "0", "--speed", "0",
                                "--key", "k1", "--secret", "s1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=Path(__file__).parent.parent)
    try:
        line = process.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        import requests

        assert requests.get(f"{url}/fapi/v1/ping", timeout=5).json() == {}
        assert requests.post(f"{url}/sim/step?bars=2", timeout=5).json()["forming_bar"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = bot("exchange-sim", "--data", str(tmp_path), "--port", "0")
    assert bad.returncode == 2 and "no candle folder" in bad.stderr
