"""Fuzz the config loader through `bot backtest --config` (issue 9): every malformed config.json or
environment override exits 2 with one line naming the file or key, no traceback, and no journal."""
from __future__ import annotations

import contextlib
import json
import os
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.config import load_config
from cli.config_schema import BotConfig
from conftest_lead import FIXTURES, run_main
from journal.errors import BadInput

FIELDS = BotConfig.__struct_fields__
NUMERIC = [k for k in FIELDS if type(getattr(BotConfig(), k)) in (int, float)]
OUT_OF_RANGE = [
    ("risk_pct", 0.9), ("risk_pct", 0), ("leverage", 500), ("leverage", 0.5), ("donchian_len", 0),
    ("atr_len", -3), ("atr_stop_k", 0), ("daily_loss_limit", 1.5), ("daily_dd_limit", -0.1),
    ("funding_interval_h", 3), ("poll_sec", 0), ("lookback", 5), ("fee_rate", 0.5), ("slippage_bps", -1),
    ("initial_equity", -10), ("emergency_stop_fallback_pct", 0), ("emergency_stop_fallback_pct", 1.5),
    ("kill_switch_max_errors", 0), ("kill_switch_window_sec", 0), ("kill_switch_max_drift_ms", 0),
    ("emergency_policy", "yolo"), ("timeframe", "7x"), ("universe", ["BTCUSDT"]), ("universe", []),
    ("pyramid_levels", [[2.0, 1.5]]), ("tp_levels", [[-1.0, 0.5]]), ("metrics_port", 70000),
    ("position_cap", {"multiple": 0, "min": 1, "max": 2}), ("position_cap", {"multiple": 1, "min": 5, "max": 1}),
]
WORDS = st.text(string.ascii_letters, min_size=1, max_size=8)
WRONG_TYPE = st.one_of(WORDS.map(lambda w: "x" + w), st.lists(st.integers(), max_size=3),
                       st.dictionaries(WORDS, st.integers(), max_size=2), st.none())


def _not_json_object(text: str) -> bool:
    try:
        return not isinstance(json.loads(text), dict)
    except ValueError:
        return True


MALFORMED = st.one_of(
    st.text(max_size=60).filter(_not_json_object).map(lambda t: ("text", t)),
    st.tuples(st.sampled_from(NUMERIC), WRONG_TYPE).map(lambda kv: ("json", {kv[0]: kv[1]})),
    st.sampled_from(OUT_OF_RANGE).map(lambda kv: ("json", {kv[0]: kv[1]})),
    WORDS.filter(lambda w: w.lower() not in FIELDS).map(lambda w: ("json", {"zz_" + w: 1})),
)


@contextlib.contextmanager
def environment(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    clean = [k for k in os.environ if k.startswith("BOT_CONFIG")] + [k.upper() for k in FIELDS if k.upper() in os.environ]
    removed = {k: os.environ.pop(k) for k in clean if k not in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.environ.update(removed)


def backtest(config: Path, journal: Path) -> tuple[int, str, str]:
    return run_main("bot", "backtest", "--config", str(config), "--data", str(FIXTURES), "--symbols", "BTC/USDT",
                    "--timeframe", "1h", "--bars", "60", "--journal", str(journal))


def assert_bad_input(rc: int, err: str, journal: Path, names: str) -> None:
    assert rc == 2, err
    line = err.strip()
    assert line and "\n" not in line and "Traceback" not in err, err
    assert names in line, (names, line)
    assert not journal.exists() or not any(journal.iterdir()), "bad input must not write a journal"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=MALFORMED)
def test_a_malformed_config_file_exits_2_naming_it_and_writes_nothing(tmp_path_factory, case):
    base = tmp_path_factory.mktemp("cfg")
    kind, payload = case
    config = base / "config.json"
    config.write_text(payload if kind == "text" else json.dumps(payload))
    with environment():
        rc, _, err = backtest(config, base / "journal")
    assert_bad_input(rc, err, base / "journal", "config.json")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(NUMERIC), value=WORDS.map(lambda w: "x" + w))
def test_a_malformed_environment_override_exits_2_naming_the_variable(tmp_path_factory, key, value):
    base = tmp_path_factory.mktemp("env")
    config = base / "config.json"
    config.write_text("{}")
    with environment(**{key.upper(): value}):
        rc, _, err = backtest(config, base / "journal")
    assert_bad_input(rc, err, base / "journal", key.upper())


@settings(max_examples=80, deadline=None)
@given(data=st.dictionaries(st.sampled_from(FIELDS), st.one_of(WRONG_TYPE, st.integers(-10, 10**6),
                                                              st.floats(allow_nan=True), st.booleans()), max_size=4))
def test_the_loader_only_ever_returns_a_config_or_raises_bad_input(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("load") / "config.json"
    path.write_text(json.dumps(data))
    try:
        assert isinstance(load_config(path, env={}), BotConfig)
    except BadInput as exc:
        assert "\n" not in str(exc) and "config.json" in str(exc)
