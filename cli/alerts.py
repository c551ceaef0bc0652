"""Slack Incoming Webhook notifier: POST {"text": ...}; failures are logged, never raised.

The webhook URL is a secret: it is never logged, never in repr(), never journaled.
"""
from __future__ import annotations

import json
import os

import requests

from cli.logs import get_logger

log = get_logger("alerts")


class SlackNotifier:
    """Posts one text message per call. `enabled` is False when no webhook URL is configured."""

    def __init__(self, webhook_url: str | None, timeout_sec: float = 5.0, session: requests.Session | None = None):
        self._url = webhook_url or None
        self.timeout_sec = timeout_sec
        self._session = session or requests.Session()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SlackNotifier:
        env = os.environ if environ is None else environ
        return cls(env.get("SLACK_WEBHOOK_URL"))

    @property
    def enabled(self) -> bool:
        return self._url is not None

    def __repr__(self) -> str:
        return f"SlackNotifier(enabled={self.enabled})"

    def send(self, text: str) -> bool:
        """True when Slack accepted the message; any failure is logged (without the URL) and returns False."""
        if self._url is None:
            log.warning("slack alert not sent: SLACK_WEBHOOK_URL unset", extra={"event": "alert_skipped"})
            return False
        try:
            response = self._session.post(self._url, json={"text": text}, timeout=self.timeout_sec)
        except requests.RequestException as exc:
            log.warning(
                "slack alert failed: %s", type(exc).__name__, extra={"event": "alert_failed", "error": type(exc).__name__}
            )
            return False
        if response.status_code >= 300:
            log.warning(
                "slack alert rejected: HTTP %s", response.status_code,
                extra={"event": "alert_failed", "status": response.status_code},
            )
            return False
        log.info("slack alert sent", extra={"event": "alert_sent"})
        return True


class DedupeStore:
    """Last-sent time per alert key in a small JSON file, so dedupe survives restarts.

    `bot health --reset-dedupe` clears it (runbook: "alert dedupe lock persists")."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._sent: dict[str, float] = self._load()

    def _load(self) -> dict[str, float]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                raw = json.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("alert dedupe store unreadable, starting empty", extra={"event": "dedupe_store_reset"})
            return {}
        return {str(k): float(v) for k, v in raw.items() if isinstance(v, (int, float))} if isinstance(raw, dict) else {}

    def last_sent(self, key: str) -> float | None:
        return self._sent.get(key)

    def allow(self, key: str, now_sec: float, cooldown_sec: float) -> bool:
        """True (and remember now) unless `key` was sent less than cooldown_sec ago. The file is read
        again first: `bot health --reset-dedupe` clears it while the bot runs, and must take effect."""
        self._sent = self._load()
        last = self._sent.get(key)
        if last is not None and now_sec - last < cooldown_sec:
            log.info("alert suppressed by dedupe", extra={"event": "alert_deduped", "key": key})
            return False
        if last is not None:
            log.info("dedupe window expired", extra={"event": "dedupe_window_expired", "key": key})
        self._sent[key] = now_sec
        self._save()
        return True

    def _save(self) -> None:
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self._sent, fh, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def reset(self) -> int:
        """Forget every key; returns how many were cleared."""
        cleared = len(self._sent)
        self._sent = {}
        self._save()
        return cleared
