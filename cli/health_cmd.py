"""`bot health`: is the bot's heartbeat fresh? (the Docker healthcheck and the runbook's resets)

Exit 0: bot_heartbeat_ts on /metrics is younger than --max-age (15 min);
exit 1: older, or absent; exit 2: the endpoint is unreachable or not Prometheus text.
--reset-dedupe clears the alert dedupe store; --reset-daily asks the running bot, through
the control channel, to re-anchor the UTC-day equity. Either reset skips the probe.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import requests
import typer
from prometheus_client.parser import text_string_to_metric_families

from cli.alerts import DedupeStore
from cli.apps import bot_app
from cli.control import submit_request
from journal.events import DailyAnchorResetRequested

DEFAULT_METRICS_URL = "http://127.0.0.1:9108/metrics"
DEFAULT_DEDUPE_STORE = "data/alert_dedupe.json"
DEFAULT_JOURNAL = "data/journal"


class Unreachable(Exception):
    """The metrics endpoint could not be read."""


def heartbeat_from(url: str, timeout_sec: float = 5.0) -> float | None:
    """bot_heartbeat_ts (epoch seconds) from a /metrics page; None when the bot never beat."""
    try:
        response = requests.get(url, timeout=timeout_sec)
        response.raise_for_status()
        families = list(text_string_to_metric_families(response.text))
    except (requests.RequestException, ValueError) as exc:
        raise Unreachable(f"{url}: {type(exc).__name__}") from None
    for family in families:
        if family.name == "bot_heartbeat_ts":
            for sample in family.samples:
                if sample.name == "bot_heartbeat_ts" and sample.value > 0:
                    return sample.value
    return None


def check(url: str, max_age_sec: float, now_sec: float) -> tuple[int, str]:
    """(exit code, one-line verdict)."""
    try:
        beat = heartbeat_from(url)
    except Unreachable as exc:
        return 2, f"unhealthy: metrics unreachable ({exc})"
    if beat is None:
        return 1, "unhealthy: no heartbeat recorded yet"
    age = now_sec - beat
    if age > max_age_sec:
        return 1, f"unhealthy: heartbeat {age:.0f}s old (> {max_age_sec:.0f}s)"
    return 0, f"healthy: heartbeat {max(age, 0):.0f}s old"


@bot_app.command("health")
def health(
    metrics_url: str = typer.Option(
        os.environ.get("BOT_METRICS_URL", DEFAULT_METRICS_URL), "--metrics-url", help="The bot's /metrics URL."
    ),
    reset_daily: bool = typer.Option(False, "--reset-daily", help="Ask the bot to re-anchor today's equity."),
    reset_dedupe: bool = typer.Option(False, "--reset-dedupe", help="Clear the alert dedupe store."),
    max_age_sec: float = typer.Option(900.0, "--max-age-sec", help="Stale after this many seconds."),
    journal: Path = typer.Option(Path(os.environ.get("BOT_JOURNAL_DIR", DEFAULT_JOURNAL)), "--journal"),
    dedupe_store: Path = typer.Option(
        Path(os.environ.get("ALERT_DEDUPE_STORE", DEFAULT_DEDUPE_STORE)), "--dedupe-store"
    ),
) -> None:
    """Exit 0 when the heartbeat is fresh, 1 when stale (> 15 min), 2 when /metrics is unreachable."""
    if reset_dedupe:
        cleared = DedupeStore(dedupe_store).reset()
        typer.echo(f"alert dedupe store {dedupe_store}: cleared {cleared} key(s)")
    if reset_daily:
        path = submit_request(journal, DailyAnchorResetRequested(ts=int(time.time() * 1000), reason="reset_daily"))
        typer.echo(f"daily anchor reset requested: {path}")
    if reset_daily or reset_dedupe:
        return
    code, verdict = check(metrics_url, max_age_sec, time.time())
    typer.echo(verdict, err=code == 2)  # unreachable is an error of the check itself: stderr
    raise typer.Exit(code)
