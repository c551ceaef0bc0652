"""The compiled core (build_core.py) is the interpreted core, only faster.

They must write byte for byte the journal the interpreted modules write, load only while they were
built from the sources on disk, and never be needed: without them the interpreted code runs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journal import native
from journal.stats import journal_stats

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ohlcv"

needs_build = pytest.mark.skipif(not native.MANIFEST.exists(),
                                 reason="the compiled core is not built here (python build_core.py)")


def _backtest_digest(tmp_path: Path, core: str) -> tuple[str, bool]:
    """content_digest of a two-symbol backtest journal run in a fresh process with BOT_CORE=`core`,
    and whether that process ran the compiled core."""
    env = {**os.environ, "BOT_CORE": core}
    journal = tmp_path / f"j-{core}"
    code = ("import sys, machine; from cli.main import bot_main; sys.argv = ['bot', *sys.argv[1:]]\n"
            "try:\n    bot_main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "import machine.decider as d\n"
            "print('COMPILED', machine.COMPILED, d.__file__.endswith('.so'))")
    run = subprocess.run([sys.executable, "-c", code, "backtest", "--data", str(DATA), "--symbols", "BTC/USDT",
                          "ETH/USDT", "--timeframe", "1h", "--journal", str(journal), "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    compiled_line = [line for line in run.stdout.splitlines() if line.startswith("COMPILED")][-1].split()
    assert compiled_line[1] == compiled_line[2]  # machine.COMPILED tells the truth about the loaded modules
    return journal_stats(journal)["content_digest"], compiled_line[1] == "True"


@needs_build
def test_compiled_and_interpreted_cores_write_the_same_journal(tmp_path):
    compiled_digest, ran_compiled = _backtest_digest(tmp_path, "compiled")
    interpreted_digest, ran_interpreted = _backtest_digest(tmp_path, "interpreted")
    if native.native_is_current():
        assert ran_compiled, "a current build must be loaded"
    assert not ran_interpreted, "BOT_CORE=interpreted must load the .py modules"
    assert compiled_digest == interpreted_digest


def _copy_tree(dest: Path) -> Path:
    """A copy of the packages the core needs, with its build, to edit without touching the checkout."""
    for package in ("machine", "journal"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _is_current_in(tree: Path) -> tuple[bool, bool]:
    code = ("import machine, journal.native as n, machine.decider as d; "
            "print(n.native_is_current(), n.ENABLED and d.__file__.endswith('.so'))")
    env = {key: value for key, value in os.environ.items() if key != "BOT_CORE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    current, loaded = out.stdout.split()
    return current == "True", loaded == "True"


@needs_build
def test_an_edited_core_source_runs_interpreted_until_rebuilt(tmp_path):
    if not native.native_is_current():
        pytest.skip("the build here is stale: bootstrap.sh rebuilds it")
    tree = _copy_tree(tmp_path)
    assert _is_current_in(tree) == (True, True)
    risk = tree / "machine" / "risk.py"
    risk.write_text(risk.read_text() + "\n# an edit\n")
    assert _is_current_in(tree) == (False, False)  # never the stale .so
    events = tree / "journal" / "events.py"  # the types it was compiled against count too
    risk.write_text(risk.read_text().removesuffix("\n# an edit\n"))
    assert _is_current_in(tree) == (True, True)
    events.write_text(events.read_text() + "\n")
    assert _is_current_in(tree) == (False, False)


def test_a_manifest_for_another_interpreter_or_module_set_is_not_loaded(tmp_path):
    tree = _copy_tree(tmp_path)
    manifest = tree / native.MANIFEST.relative_to(native.ROOT)
    manifest.parent.mkdir(exist_ok=True)
    sources = {path: native.source_digest(path) for path in native.manifest_sources()}
    modules = {package: list(names) for package, names in native.COMPILED_MODULES.items()}
    good = {"abi": sys.implementation.cache_tag, "modules": modules, "sources": sources}
    manifest.write_text(json.dumps(good))
    assert _is_current_in(tree)[0] is True  # the control: this manifest describes the tree
    manifest.write_text(json.dumps({**good, "abi": "cpython-0"}))
    assert _is_current_in(tree)[0] is False
    manifest.write_text(json.dumps({**good, "modules": {**modules, "machine": ["decider"]}}))
    assert _is_current_in(tree)[0] is False  # built for another set of modules
    manifest.write_text("{not json")
    assert _is_current_in(tree)[0] is False
