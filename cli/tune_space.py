"""The tuning search space: which values of the four tuned knobs each trial gets.

A grid file is JSON `{"donchian_len": [10, 20], "atr_stop_k": [1.0, 1.5], ...}`; keys
left out keep the base config's value. `grid` tries every combination (in a stable
order: keys as in TUNED_KEYS, values as listed); `random` draws `trials` distinct
combinations from the same lists with `random.Random(seed)`, so a seed always gives
the same trials. Every combination is checked with the config's own range rules, so
a bad value is refused before any trial runs (exit 2, naming the key).
"""
from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from cli.config_schema import BotConfig, range_problems
from journal.errors import BadInput

TUNED_KEYS = ("donchian_len", "atr_stop_k", "atr_trail_k", "risk_pct")
DEFAULT_GRID: dict[str, tuple[float | int, ...]] = {
    "donchian_len": (10, 20, 40),
    "atr_stop_k": (1.0, 1.5, 2.5),
    "atr_trail_k": (2.0, 3.0),
    "risk_pct": (0.01, 0.025),
}
"""36 combinations around the seed's defaults (donchian_len 20, atr_stop_k 1.2, atr_trail_k 2.5, risk_pct 0.025)."""

_KINDS = {"donchian_len": int, "atr_stop_k": float, "atr_trail_k": float, "risk_pct": float}


@dataclass(frozen=True)
class Trial:
    """One point of the search: its index (stable id, tie-breaker) and the tuned values."""

    index: int
    values: dict[str, int | float]


def load_grid(path: Path | None) -> dict[str, tuple[int | float, ...]]:
    """The grid file (or DEFAULT_GRID), typed and checked: unknown keys, empty or non-numeric lists are bad input."""
    if path is None:
        return dict(DEFAULT_GRID)
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInput(f"--grid {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--grid {path}: unreadable ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"--grid {path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(raw, dict) or not raw:
        raise BadInput(f"--grid {path}: expected a JSON object such as {{\"donchian_len\": [10, 20]}}")
    grid: dict[str, tuple[int | float, ...]] = {}
    for key, values in raw.items():
        if key not in _KINDS:
            raise BadInput(f"--grid {path}: unknown key {key!r} (tunable: {', '.join(TUNED_KEYS)})")
        grid[key] = _typed_values(path, key, values)
    return {key: grid[key] for key in TUNED_KEYS if key in grid}


def _typed_values(path: Path, key: str, values: Any) -> tuple[int | float, ...]:
    if not isinstance(values, list) or not values:
        raise BadInput(f"--grid {path}: {key}: expected a non-empty list of numbers")
    kind = _KINDS[key]
    typed: list[int | float] = []
    for value in values:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int and ok and float(value) != int(value):
            ok = False
        if not ok:
            expected = "integers" if kind is int else "numbers"
            raise BadInput(f"--grid {path}: {key}: expected a list of {expected}, got {value!r}")
        typed.append(kind(value))
    return tuple(dict.fromkeys(typed))  # duplicates would only repeat a trial


def grid_trials(grid: dict[str, tuple[int | float, ...]]) -> list[Trial]:
    keys = list(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    return [Trial(i, dict(zip(keys, combo))) for i, combo in enumerate(combos)]


def random_trials(grid: dict[str, tuple[int | float, ...]], count: int, seed: int) -> list[Trial]:
    """`count` distinct combinations drawn with a seeded RNG (all of them if the grid is smaller)."""
    if count < 1:
        raise BadInput(f"--trials {count}: must be at least 1")
    every = grid_trials(grid)
    picked = random.Random(seed).sample(range(len(every)), min(count, len(every)))
    return [Trial(i, every[j].values) for i, j in enumerate(picked)]


def build_trials(grid: dict[str, tuple[int | float, ...]], search: str, trials: int | None,
                 seed: int) -> list[Trial]:
    if search == "grid":
        return grid_trials(grid)
    if search == "random":
        return random_trials(grid, trials if trials is not None else 20, seed)
    raise BadInput(f"--search {search!r}: expected grid or random")


def check_trials(base: BotConfig, trials: list[Trial], source: str) -> None:
    """Each trial's config must pass the config's range rules (e.g. risk_pct in (0, 0.5])."""
    for trial in trials:
        problems = range_problems(msgspec.structs.replace(base, **trial.values))
        if problems:
            raise BadInput(f"{source}: {problems[0]}")
