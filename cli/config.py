"""Load config.json + environment into a validated `BotConfig` (seed semantics).

Sources, weakest first: defaults, environment variables (each key upper-cased:
RISK_PCT, BINANCE_KEY, SAFE_RESTART, ...), then config.json, whose keys override the
environment as in the seed. The file is `path`, else env BOT_CONFIG_JSON, else
./config.json when present. Any bad value raises BadInput (exit 2) with one line
naming the file or variable, the key, and what was expected.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import msgspec

from cli.config_schema import BotConfig, range_problems
from journal.errors import BadInput

CONFIG_ENV = "BOT_CONFIG_JSON"
_FIELD_TYPES = {name: ftype for name, ftype in zip(BotConfig.__struct_fields__,
                                                   msgspec.structs.fields(BotConfig))}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_value(key: str, text: str) -> Any:
    """Parse one environment string by the key's type (JSON for lists and objects)."""
    default = _FIELD_TYPES[key].default
    var = key.upper()
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise BadInput(f"env {var}: expected a boolean (true/false), got {text!r}")
    if isinstance(default, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise BadInput(f"env {var}: expected {type(default).__name__} (JSON), got {text!r}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    return {key: _env_value(key, env[key.upper()]) for key in BotConfig.__struct_fields__ if key.upper() in env}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read config ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object of config keys, got {type(data).__name__}")
    return data


def _where(source: str, message: str) -> str:
    """msgspec's 'Expected `float`, got `str` - at `$.risk_pct`' -> 'key risk_pct: expected float, got str'."""
    if " - at `$." in message:
        what, _, path = message.partition(" - at `$.")
        key = path.rstrip("`")
        if what.startswith("Object contains unknown field"):
            return f"{source}: unknown key {key}.{what.split('`')[1]}"
        return f"{source}: key {key}: {what.replace('`', '').replace('Expected', 'expected')}"
    if message.startswith("Object contains unknown field"):
        key = message.split("`")[1]
        return f"{source}: unknown key {key!r}"
    return f"{source}: {message}"


def config_path(path: Path | str | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path("config.json")
    return default if default.is_file() else None


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> BotConfig:
    """The validated config. `env` defaults to os.environ (tests pass their own)."""
    env = os.environ if env is None else env
    merged = _from_env(env)
    source = "environment"
    file = config_path(path, env)
    if file is not None:
        from_file = _read_json(file)
        if "OBSERVABILITY" in from_file:  # the seed's spelling of the alert knobs' dict
            from_file["observability"] = from_file.pop("OBSERVABILITY")
        try:
            msgspec.convert(from_file, BotConfig)
        except msgspec.ValidationError as exc:
            raise BadInput(_where(str(file), str(exc))) from None
        merged.update(from_file)
        source = str(file)
    try:
        config = msgspec.convert(merged, BotConfig)
    except msgspec.ValidationError as exc:
        raise BadInput(_where("environment", str(exc))) from None
    problems = range_problems(config)
    if problems:
        raise BadInput(f"{source}: {problems[0]}")
    return config
