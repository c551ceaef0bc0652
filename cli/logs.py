"""Structured JSON logs on the `donchian_bot` logger, and the startup banner.

Why JSON: operators ship these lines to a log store and filter on fields
(`event="kill_switch_trigger"`), so every record is one JSON object per line.
Known secrets are masked by a filter before any handler sees the record.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

LOGGER_NAME = "donchian_bot"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MASK = "***"


class SecretMaskFilter(logging.Filter):
    """Replace every known secret value (API keys, webhook URLs) with *** in a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def _mask(self, value: object) -> object:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, _MASK)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self._mask(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and key not in ("msg", "name", "levelname", "pathname"):
                record.__dict__[key] = self._mask(value)
        return True


def secrets_from_env(environ: dict[str, str] | None = None) -> list[str]:
    """Values that must never appear in logs: keys, secrets, webhooks, tokens."""
    env = os.environ if environ is None else environ
    markers = ("KEY", "SECRET", "WEBHOOK", "TOKEN", "PASSWORD")
    return [v for k, v in env.items() if any(m in k.upper() for m in markers) and v]


def resolve_level(value: str | None) -> int:
    """LOG_LEVEL name -> logging level; unknown names fall back to INFO."""
    name = (value or "INFO").strip().upper()
    return getattr(logging, name) if name in LEVELS else logging.INFO


def configure_logging(
    level: str | None = None,
    stream: TextIO | None = None,
    secrets: Iterable[str] | None = None,
) -> logging.Logger:
    """Configure `donchian_bot` once (idempotent): JSON lines to stream (stderr), LOG_LEVEL honoured."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(resolve_level(level if level is not None else os.environ.get("LOG_LEVEL")))
    for old in list(logger.handlers):
        logger.removeHandler(old)
    for old in list(logger.filters):
        logger.removeFilter(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter("{asctime}{levelname}{name}{message}", style="{", rename_fields={"levelname": "level"})
    )
    handler.addFilter(SecretMaskFilter(secrets if secrets is not None else secrets_from_env()))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def get_logger(child: str | None = None) -> logging.Logger:
    """The project logger or one of its children (`donchian_bot.alerts`, ...)."""
    return logging.getLogger(f"{LOGGER_NAME}.{child}" if child else LOGGER_NAME)


def env_flag(name: str, default: bool = False, environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def startup_banner(mode: str, version: str, symbols: Iterable[str], safe: bool) -> str:
    """One line for the console; SAFE_CONSOLE_BANNER marks it so operators see SAFE mode at a glance."""
    prefix = "[SAFE MODE] " if safe else ""
    return f"{prefix}donchian bot {version} starting: mode={mode} symbols={','.join(symbols)}"


def log_startup_banner(
    logger: logging.Logger, mode: str, version: str, symbols: Iterable[str], safe: bool | None = None
) -> str:
    """Log the banner (event="startup_banner"); `safe` defaults to env SAFE_CONSOLE_BANNER."""
    safe_mode = env_flag("SAFE_CONSOLE_BANNER") if safe is None else safe
    text = startup_banner(mode, version, tuple(symbols), safe_mode)
    logger.info(text, extra={"event": "startup_banner", "safe_mode": safe_mode, "mode": mode})
    return text
