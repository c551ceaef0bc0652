"""`bot live --exchange binance` start-up as an operator sees it: the console banner (SAFE MODE marked when
SAFE_CONSOLE_BANNER is set), and a venue that cannot be reached at start is exit 2 with one line *and* a
Slack "Fatal" alert, since nobody may be watching the terminal of a bot started by a supervisor."""
from __future__ import annotations

import socket
import subprocess

from conftest_safety import BOT, SlackStandIn, live_env


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_an_unreachable_venue_at_start_is_exit_2_and_a_fatal_slack_alert(tmp_path):
    slack = SlackStandIn()
    try:
        knobs = '{"dedupe_store": "%s"}' % (tmp_path / "dedupe.json")
        env = live_env(closed_port_url(), SLACK_WEBHOOK_URL=slack.url, SAFE_CONSOLE_BANNER="true",
                       OBSERVABILITY=knobs, LOG_LEVEL="INFO")
        done = subprocess.run([BOT, "live", "--exchange", "binance", "--journal", str(tmp_path / "j")], env=env,
                              capture_output=True, text=True, timeout=180, cwd=tmp_path)
        texts = slack.texts()
    finally:
        slack.stop()
    assert done.returncode == 2
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("bot: error:")]
    assert len(lines) == 1 and "cannot start trading" in lines[0] and "Traceback" not in done.stderr
    assert any(t.startswith("❌ Fatal: ") and "cannot start trading" in t for t in texts)
    assert "[SAFE MODE] donchian bot" in done.stderr + done.stdout
