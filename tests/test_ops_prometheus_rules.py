"""The Prometheus alert rules pass `promtool check rules` and their unit tests; the scrape config is valid.

promtool comes from Debian's prometheus package (.ci/run installs it); without it these tests fail."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

OPS = Path(__file__).resolve().parent.parent / "ops" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package (see .ci/run)")
    return subprocess.run([tool, *args], cwd=OPS, capture_output=True, text=True, timeout=120)


def test_rules_file_passes_promtool_check():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests_pass():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_scrape_config_is_valid_and_loads_the_rules():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((OPS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["bot:9108"]


def test_seed_alerts_and_heartbeat_rule_exist():
    rules = {r["alert"]: r for g in yaml.safe_load((OPS / "alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert {"TradingBotClockDrift", "TradingBotErrorBurst", "TradingBotHeartbeatStale"} <= rules.keys()
    assert rules["TradingBotClockDrift"]["for"] == "3m"


def test_a_broken_rule_is_rejected(tmp_path):
    """The check can fail: a rule with a PromQL syntax error does not pass."""
    (tmp_path / "bad.yml").write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: rate(foo[5m]\n")
    result = promtool("check", "rules", str(tmp_path / "bad.yml"))
    assert result.returncode != 0
