"""config.json + environment: precedence, validation (exit 2 naming the key), secrets masked."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.config import load_config
from journal.errors import BadInput
from machine.params import Params, PositionCap

ROOT = Path(__file__).resolve().parent.parent


def bot(args, cwd, env=None):
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", "from cli.main import bot_main; bot_main()", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True)


def bot_inproc(args, monkeypatch, capsys, env=None):
    """The real `bot` entry point in-process (exit code + output), with a clean config environment."""
    from cli.main import bot_main

    for key in [k for k in os.environ if k.upper() in {f.upper() for f in _config_keys()} or k == "BOT_CONFIG_JSON"]:
        monkeypatch.delenv(key, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["bot", *args])
    with pytest.raises(SystemExit) as exc:
        bot_main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _config_keys():
    from cli.config_schema import BotConfig

    return BotConfig.__struct_fields__


def write(tmp_path, data) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_defaults_are_the_seed_values():
    config = load_config(env={})
    assert config.params == Params()
    assert config.params.position_cap == PositionCap(multiple=2.0, min=10_000, max=25_000)
    assert (config.risk_pct, config.leverage, config.pyramid_levels) == (0.025, 10, ((2.0, 0.3), (3.0, 0.2)))
    assert config.safe_restart is True and config.safe_console_banner is False


def test_json_keys_override_environment_and_env_overrides_defaults(tmp_path):
    path = write(tmp_path, {"risk_pct": 0.02, "pyramid_levels": [[1.5, 0.5]]})
    config = load_config(path, env={"RISK_PCT": "0.01", "ATR_LEN": "21", "SAFE_RESTART": "false"})
    assert (config.risk_pct, config.atr_len, config.safe_restart) == (0.02, 21, False)
    assert config.params.pyramid_levels == ((1.5, 0.5),)


def test_bot_config_json_env_names_the_file(tmp_path):
    path = write(tmp_path, {"leverage": 3})
    assert load_config(env={"BOT_CONFIG_JSON": str(path)}).leverage == 3


@pytest.mark.parametrize("data, expected", [
    ({"risk_pct": "lots"}, "key risk_pct: expected float, got str"),
    ({"leverage": 500}, "leverage: expected between 1 and 125, got 500"),
    ({"no_such_key": 1}, "unknown key 'no_such_key'"),
    ({"position_cap": {"multiple": 2, "mn": 1}}, "unknown key position_cap.mn"),
    ({"position_cap": {"multiple": 2, "min": 30000, "max": 1000}}, "position_cap: expected multiple > 0"),
    ({"pyramid_levels": [[2.0, 1.5]]}, "pyramid_levels[0]"),
    ({"tp_levels": [[1.0, 0.7], [2.0, 0.7]]}, "tp_levels: expected fractions summing to <= 1"),
    ({"timeframe": "1x"}, "timeframe: expected"),
    ({"emergency_policy": "panic"}, "key emergency_policy"),
    ({"universe": ["BTC-USDT"]}, "universe: expected a non-empty list of BASE/USDT symbols"),
    ({"log_level": "LOUD"}, "log_level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
    ("{ not json", "invalid JSON at line 1 column 3"),
    ([1, 2], "expected a JSON object of config keys"),
    ({"OBSERVABILITY": {"alert_cooldown_seconds": 5}}, "OBSERVABILITY: unknown key 'alert_cooldown_seconds'"),
    ({"OBSERVABILITY": {"heartbeat_interval_sec": "12h"}}, "OBSERVABILITY: key heartbeat_interval_sec: expected float"),
    ({"OBSERVABILITY": {"scheduler_interval_sec": 0}}, "OBSERVABILITY.scheduler_interval_sec: expected > 0"),
])
def test_bad_config_exits_2_with_one_line_naming_the_key(tmp_path, monkeypatch, capsys, data, expected):
    path = write(tmp_path, data)
    with pytest.raises(BadInput) as err:
        load_config(path, env={})
    assert expected in str(err.value) and str(path) in str(err.value)
    monkeypatch.chdir(tmp_path)
    code, _, err_text = bot_inproc(["config-check", "--config", str(path)], monkeypatch, capsys)
    assert code == 2 and expected in err_text
    assert len(err_text.strip().splitlines()) == 1 and "Traceback" not in err_text


def test_bad_config_through_the_installed_console_script(tmp_path):
    out = bot(["config-check", "--config", str(write(tmp_path, {"risk_pct": "lots"}))], cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip().endswith("key risk_pct: expected float, got str")


def test_bad_environment_value_names_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = bot_inproc(["config-check"], monkeypatch, capsys, env={"RISK_PCT": "abc"})
    assert code == 2 and "env RISK_PCT" in err
    code, _, err = bot_inproc(["config-check"], monkeypatch, capsys, env={"TESTNET": "perhaps"})
    assert code == 2 and "env TESTNET: expected a boolean" in err


def test_missing_config_file_exits_2(tmp_path, monkeypatch, capsys):
    code, _, err = bot_inproc(["config-check", "--config", str(tmp_path / "nope.json")], monkeypatch, capsys)
    assert code == 2 and "nope.json: config file not found" in err


def test_secrets_never_appear_in_repr_settings_digest_or_output(tmp_path, monkeypatch, capsys):
    # mcp_control_token: the key `bot mcp --config` reads, accepted by every command on the same config.json
    path = write(tmp_path, {"binance_key": "KEY-s3cr3t", "binance_secret": "SEC-s3cr3t", "mcp_control_token": "TOKs3cr3t"})
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/XXs3cr3t"}
    config = load_config(path, env=env)
    assert config.binance_key == "KEY-s3cr3t" and config.slack_webhook_url.endswith("XXs3cr3t")
    for text in (repr(config), str(config), json.dumps(config.public_settings())):
        assert "s3cr3t" not in text
    assert config.digest() == load_config(env={}).digest()  # secrets do not change the digest
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = bot_inproc(["config-check", "--config", str(path), "--json"], monkeypatch, capsys, env=env)
    assert code == 0 and "s3cr3t" not in stdout
    shown = json.loads(stdout)
    assert shown["settings"]["risk_pct"] == 0.025 and "binance_key" not in shown["settings"]


def test_every_params_knob_is_a_config_key():
    from cli.config_schema import BotConfig

    assert set(Params.__struct_fields__) <= set(BotConfig.__struct_fields__)
    defaults = BotConfig()
    assert all(getattr(defaults, k) == getattr(Params(), k) for k in Params.__struct_fields__)


def test_observability_knobs_reach_the_alert_scheduler_over_the_top_level_seed_keys(tmp_path):
    from cli.config_schema import observability_of

    plain = load_config(write(tmp_path, {"alert_cooldown_sec": 120}), env={})
    assert observability_of(plain).alert_cooldown_sec == 120  # the seed's top-level key still works
    config = load_config(write(tmp_path, {"alert_cooldown_sec": 120, "OBSERVABILITY": {
        "alert_cooldown_sec": 30, "heartbeat_interval_sec": 3600}}), env={"DAILY_REPORT_ENABLED": "true"})
    knobs = observability_of(config)
    assert (knobs.alert_cooldown_sec, knobs.heartbeat_interval_sec, knobs.daily_report_enabled) == (30, 3600, True)
    from_env = load_config(None, env={"OBSERVABILITY": '{"error_burst_count": 3}'})
    assert observability_of(from_env).error_burst_count == 3


def test_a_config_without_observability_keeps_its_digest():
    # Journals record the config digest: adding the key must not change it for configs that do not set it.
    assert "observability" not in load_config(None, env={}).public_settings()
