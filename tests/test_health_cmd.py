"""`bot health` against a real /metrics endpoint: fresh 0, stale 1, unreachable 2; the resets."""
import json
import socket
import time

import pytest
import typer
from prometheus_client import CollectorRegistry
from click.testing import CliRunner

import cli.health_cmd  # noqa: F401  (registers `bot health`)
from cli.apps import bot_app
from cli.control import drain_requests
from cli.metrics import MetricsProjector, start_metrics_server
from journal.events import DailyAnchorResetRequested

runner = CliRunner()


@pytest.fixture
def metrics():
    registry = CollectorRegistry()
    projector = MetricsProjector(registry, "main", "1h", ["BTC/USDT"])
    server = start_metrics_server(0, registry, addr="127.0.0.1")
    yield projector, f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()


def health(*args):
    """Invoke `bot health ARGS` on the shared app (a lone registered command is the app itself)."""
    command = typer.main.get_command(bot_app)
    is_group = hasattr(command, "commands")  # typer >= 0.26 vendors click: not a `click.Group` instance
    return runner.invoke(command, ["health", *args] if is_group else list(args))


def test_fresh_heartbeat_exits_zero(metrics):
    projector, url = metrics
    projector.mark_heartbeat(time.time() - 60)
    result = health("--metrics-url", url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("healthy")


def test_heartbeat_older_than_fifteen_minutes_exits_one(metrics):
    projector, url = metrics
    projector.mark_heartbeat(time.time() - 16 * 60)
    result = health("--metrics-url", url)
    assert result.exit_code == 1
    assert "old" in result.output


def test_never_beaten_exits_one(metrics):
    _, url = metrics
    assert health("--metrics-url", url).exit_code == 1


def test_unreachable_endpoint_exits_two():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = health("--metrics-url", f"http://127.0.0.1:{port}/metrics")
    assert result.exit_code == 2
    assert "unreachable" in result.output


def test_reset_dedupe_clears_the_store(tmp_path):
    store = tmp_path / "dedupe.json"
    store.write_text(json.dumps({"kill_switch:error_burst": 1.0, "heartbeat": 2.0}))
    result = health("--reset-dedupe", "--dedupe-store", str(store))
    assert result.exit_code == 0
    assert json.loads(store.read_text()) == {}


def test_reset_daily_writes_a_control_request(tmp_path):
    result = health("--reset-daily", "--journal", str(tmp_path))
    assert result.exit_code == 0
    [request] = drain_requests(tmp_path)
    assert isinstance(request, DailyAnchorResetRequested) and request.reason == "reset_daily"


def test_bot_health_console_script_end_to_end(metrics):
    """The real `bot` entry point (as the Docker HEALTHCHECK runs it)."""
    import subprocess
    import sys
    from pathlib import Path

    projector, url = metrics
    bot = str(Path(sys.executable).parent / "bot")
    projector.mark_heartbeat(time.time())
    fresh = subprocess.run([bot, "health", "--metrics-url", url], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    projector.mark_heartbeat(time.time() - 3600)
    stale = subprocess.run([bot, "health", "--metrics-url", url], capture_output=True, text=True, timeout=60)
    assert stale.returncode == 1
    assert "Traceback" not in stale.stderr
