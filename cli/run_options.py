"""Option parsing shared by `bot backtest` and `bot live`: symbols, params, paths.

`--symbols BTC/USDT ETH/USDT` takes several values after one flag (the seed's
spelling); click gives us the first and leaves the rest as extra arguments.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from dataclasses import dataclass
from typing import Any

import msgspec

from cli.config import load_config
from cli.config_schema import BotConfig
from exchange.ohlcv import timeframe_ms
from journal.errors import BadInput
from machine.params import Params

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO_ROOT / "tests" / "data" / "ohlcv"
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT")


def parse_symbols(first: str | None, extras: Sequence[str], default: Sequence[str] = DEFAULT_SYMBOLS) -> tuple[str, ...]:
    """`--symbols A B`, `--symbols A,B` or repeated; unknown stray arguments are bad input."""
    raw = ([first] if first else []) + list(extras)
    symbols: list[str] = []
    for item in raw:
        for part in item.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if "/" not in part or part.startswith("-"):
                raise BadInput(f"unexpected argument {item!r} (symbols look like BTC/USDT)")
            if part not in symbols:
                symbols.append(part)
    return tuple(symbols) if symbols else tuple(default)


@dataclass(frozen=True)
class RunConfig:
    """What a run decides under, and what of it may be journaled (never secrets)."""

    params: Params
    settings: dict[str, Any]
    digest: str
    config: BotConfig


def load_run_config(path: Path | None, timeframe: str | None = None, use_env: bool = True) -> RunConfig:
    """Config file (+ environment, as the seed) through `cli.config`; --timeframe wins.

    `use_env=False` (backtests without --config): the defaults only, so a stray
    BOT_CONFIG_JSON or ./config.json cannot change a reproducible backtest."""
    config = BotConfig() if (path is None and not use_env) else load_config(path)
    if timeframe is not None:
        timeframe_ms(timeframe)
        config = msgspec.structs.replace(config, timeframe=timeframe)
    params = config.params
    settings = {**config.public_settings(), "params": msgspec.to_builtins(params)}
    return RunConfig(params=params, settings=settings, digest=config.digest(), config=config)


def default_data_dir() -> Path:
    """Demo candles shipped with the repo (or BASELINE_OHLCV_DIR when set)."""
    env = os.environ.get("BASELINE_OHLCV_DIR")
    return Path(env) if env else DEMO_DATA


def discover_symbols(data_dir: Path, timeframe: str) -> tuple[str, ...]:
    """Every `BASE_QUOTE.(parquet|csv)` under DIR/<timeframe>, as BASE/QUOTE."""
    folder = Path(data_dir) / timeframe
    if not folder.is_dir():
        raise BadInput(f"{folder}: no candle directory for timeframe {timeframe}")
    stems = {p.stem for p in folder.iterdir() if p.suffix in (".parquet", ".csv") and "_" in p.stem}
    if not stems:
        raise BadInput(f"{folder}: no candle files (BASE_QUOTE.parquet or .csv)")
    return tuple(sorted(stem.replace("_", "/", 1) for stem in stems))


def fresh_dir(base: Path, name: str) -> Path:
    """`base/name`, or `base/name-2`, `-3`, ... when taken: a run never appends to another's journal."""
    candidate, n = base / name, 1
    while candidate.exists() and any(candidate.iterdir()):
        n += 1
        candidate = base / f"{name}-{n}"
    return candidate
