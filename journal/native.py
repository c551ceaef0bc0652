"""Which compiled modules this process runs (build_core.py compiles them: mypyc, and one C module).

The per-input hot path, the decision core (`machine/`), compiles from the very source that runs
interpreted. The build writes each package's modules to `<package>/_native/` and one manifest of
the sources they were built from. A package puts its `_native/` first on its path only while every
one of those sources is unchanged and the interpreter ABI matches, so an edited module runs
interpreted until the next build instead of running stale code. The same build compiles the journal's
framing loop, written in C (`journal/_cframer.c`). Compiling `journal/batch.py` with mypyc gained 3 %
(its time is msgspec, BLAKE2b and CRC32C, in C already); what pays is a loop that runs without the
GIL, so that a backtest frames its journal on one core while the decision core runs on the other.

`BOT_CORE=interpreted` forces the interpreted modules: read once, here, at import. It picks *how*
the code runs, never *what* it decides or writes (both give byte-identical journals:
tests/test_core_compiled.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the folder holding the packages (repo root or site-packages)
COMPILED_MODULES: dict[str, tuple[str, ...]] = {
    "machine": ("rounding", "records", "indicators", "state", "ids", "risk", "emit", "fills", "evolve_orders", "evolve_ops",
                "evolve", "decide_orders", "emergency", "emergency_reconcile", "decide_ops", "decide_bar",
                "decider"),
    "exchange": ("paper_fills", "paper_checks", "paper"),
    "cli": ("loop", "run_summary"),
}
"""Per package, the modules mypyc compiles: every module of the per-input path. In `machine/`, the decision
core (params and lifecycle, which are msgspec/transitions classes, and the seed facades stay interpreted); in the
shell, the run loop, its summary and the paper venue that a backtest or a tuning trial drives once per bar."""
COMPILED_AGAINST = ("machine/params.py", "machine/lifecycle.py", "journal/events.py", "journal/record.py",
                    "journal/codec.py", "journal/framing.py", "journal/errors.py", "journal/upcast.py",
                    "journal/secrets_guard.py", "exchange/paper_state.py", "exchange/paper_markets.py", "exchange/port.py")
"""Interpreted modules whose types the compiled ones were checked against: an edit there counts too."""
C_EXTENSIONS: dict[str, tuple[str, ...]] = {"journal": ("_cframer",)}
"""Per package, the extension modules written in C (`<package>/<name>.c`), built beside the mypyc ones."""
GROUP = "machine._core"  # the one shared library holding every compiled module (in machine/_native)


def native_dir(package: str) -> Path:
    return ROOT / package / "_native"


MANIFEST_PACKAGE = "machine"  # whose _native/ holds the manifest of the whole build
MANIFEST = native_dir(MANIFEST_PACKAGE) / "manifest.json"


def manifest_sources() -> list[str]:
    own = [f"{package}/{name}.py" for package, names in COMPILED_MODULES.items() for name in names]
    c_sources = [f"{package}/{name}.c" for package, names in C_EXTENSIONS.items() for name in names]
    return [*own, *c_sources, *COMPILED_AGAINST]


def native_packages() -> list[str]:
    """Every package that has a `_native/` when built."""
    return [*COMPILED_MODULES, *(p for p in C_EXTENSIONS if p not in COMPILED_MODULES)]


def built_modules() -> dict[str, list[str]]:
    """What a current manifest lists, per package: mypyc modules, then C extensions."""
    modules = {package: list(names) for package, names in COMPILED_MODULES.items()}
    for package, names in C_EXTENSIONS.items():
        modules.setdefault(package, []).extend(names)
    return modules


def source_digest(relative: str) -> str:
    return hashlib.sha256((ROOT / relative).read_bytes()).hexdigest()


def abi_tag() -> str:
    """The extension-module suffix of this interpreter (".cpython-311-x86_64-linux-gnu.so"): a build
    for another Python or platform would not even be importable, so it must not count as current."""
    return str(sysconfig.get_config_var("EXT_SUFFIX"))


def native_is_current() -> bool:
    """True when the build on disk was made from exactly the sources on disk, for this interpreter."""
    try:
        manifest = json.loads(MANIFEST.read_text())
        return (manifest.get("abi") == abi_tag()
                and manifest.get("modules") == built_modules()
                and sorted(manifest["sources"]) == sorted(manifest_sources())
                and all(source_digest(path) == digest for path, digest in manifest["sources"].items()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


ENABLED = os.environ.get("BOT_CORE", "") != "interpreted" and native_is_current()
"""Whether this process runs the compiled modules (all of them or none)."""


def activate(package: str, path: list[str]) -> bool:
    """Called by a package's __init__ with its __path__: put its compiled modules first when enabled."""
    if ENABLED:
        path.insert(0, str(native_dir(package)))
    return ENABLED
