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

PACKAGES = ("machine", "journal", "cli", "exchange")  # the compiled ones and what they were compiled against
LOADED = ("machine.decider", "cli.loop", "exchange.paper")  # one compiled module of each package

needs_build = pytest.mark.skipif(not native.MANIFEST.exists(),
                                 reason="the compiled core is not built here (python build_core.py)")


def _backtest_digest(tmp_path: Path, core: str) -> tuple[str, bool]:
    """content_digest of a two-symbol backtest journal run in a fresh process with BOT_CORE=`core`,
    and whether that process ran the compiled core."""
    env = {**os.environ, "BOT_CORE": core}
    journal = tmp_path / f"j-{core}"
    code = ("import sys, machine; from cli.main import bot_main; sys.argv = ['bot', *sys.argv[1:]]\n"
            "try:\n    bot_main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "import importlib\n"
            f"so = [importlib.import_module(name).__file__.endswith('.so') for name in {LOADED!r}]\n"
            "assert len(set(so)) == 1, so  # all compiled or none\n"
            "import journal.batch\n"
            "assert journal.batch.NATIVE == so[0], 'the C framer loads with the rest of the build'\n"
            "print('COMPILED', machine.COMPILED, so[0])")
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
    """A copy of the packages the build covers, with the build, to edit without touching the checkout."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _is_current_in(tree: Path) -> tuple[bool, bool]:
    code = ("import importlib, journal.native as n, journal.batch as b; "
            f"so = [importlib.import_module(name).__file__.endswith('.so') for name in {LOADED!r}] + [b.NATIVE]; "
            "print(n.native_is_current(), n.ENABLED and all(so) if any(so) else False)")
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
    events.write_text(events.read_text().removesuffix("\n"))
    loop = tree / "cli" / "loop.py"  # the shell's compiled modules are part of the one build
    loop.write_text(loop.read_text() + "\n# an edit\n")
    assert _is_current_in(tree) == (False, False)
    loop.write_text(loop.read_text().removesuffix("\n# an edit\n"))
    assert _is_current_in(tree) == (True, True)
    framer = tree / "journal" / "_cframer.c"  # and so is the C framer
    framer.write_text(framer.read_text() + "\n/* an edit */\n")
    assert _is_current_in(tree) == (False, False)


def test_a_manifest_for_another_interpreter_or_module_set_is_not_loaded(tmp_path):
    tree = _copy_tree(tmp_path)
    manifest = tree / native.MANIFEST.relative_to(native.ROOT)
    manifest.parent.mkdir(exist_ok=True)
    sources = {path: native.source_digest(path) for path in native.manifest_sources()}
    modules = native.built_modules()
    good = {"abi": native.abi_tag(), "modules": modules, "sources": sources}
    manifest.write_text(json.dumps(good))
    assert _is_current_in(tree)[0] is True  # the control: this manifest describes the tree
    manifest.write_text(json.dumps({**good, "abi": ".cpython-311-aarch64-linux-gnu.so"}))  # another platform
    assert _is_current_in(tree)[0] is False
    manifest.write_text(json.dumps({**good, "modules": {**modules, "machine": ["decider"]}}))
    assert _is_current_in(tree)[0] is False  # built for another set of modules
    manifest.write_text("{not json")
    assert _is_current_in(tree)[0] is False


def _traded_state():
    """A state after a real backtest: positions, orders, fill ids and indicator rings in it."""
    from exchange.ohlcv import load_candles
    from journal import events as ev
    from machine.decider import initial_state
    from machine.params import Params
    from machine.sim_venue import SimVenue, run_loop

    params = Params()
    candles = load_candles(DATA, ["BTC/USDT", "ETH/USDT"], "1h")
    session = ev.SessionStarted(ts=candles[0].ts, run_id="run-0001", mode="backtest", version="t", config_digest="")
    state, _ = run_loop(initial_state(params), params, [session, *candles], SimVenue(params))
    assert len(state.fill_ids) >= 5 and state.ind and state.sym
    return state


def test_states_and_records_keep_value_semantics():
    """Equal states compare equal whatever order their sets and dicts were filled in; a state survives
    pickle and deepcopy (compiled, native classes have no __dict__ for them to copy)."""
    import copy
    import pickle

    from machine.state import fingerprint, snapshot

    state = _traded_state()
    twin = snapshot(state)
    twin.fill_ids = set(sorted(state.fill_ids, reverse=True))  # same ids, filled in another order
    twin.sym = dict(reversed(list(state.sym.items())))
    assert twin == state and fingerprint(twin) == fingerprint(state)
    for clone in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state)):
        assert clone == state and clone is not state
        assert clone.sym == state.sym and clone.ind == state.ind and clone.orders == state.orders
    moved = snapshot(state)
    moved.cash += 1.0
    assert moved != state


@needs_build
def test_a_source_saved_during_the_build_is_not_recorded_as_built(tmp_path):
    """The manifest's digests are the sources mypyc read: an edit saved mid-build (an editor, a git pull)
    must not be recorded as built, or the stale compiled module would load as current."""
    pytest.importorskip("mypyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "_native", "_native.new"))
    shutil.copy2(ROOT / "build_core.py", tmp_path / "build_core.py")
    build = ("import runpy, sys\nfrom pathlib import Path\nimport mypyc.build as mb\n"
             "real = mb.mypycify\n"
             "def mypycify(*a, **k):\n"
             "    ext = real(*a, **k)  # mypyc has read the sources; the C build is still to come\n"
             "    p = Path('machine/risk.py')\n"
             "    p.write_text(p.read_text() + '\\n\\ndef saved_mid_build() -> int:\\n    return 1\\n')\n"
             "    return ext\n"
             "mb.mypycify = mypycify\n"
             "sys.argv = ['build_core.py', '--force']\n"
             "try:\n    runpy.run_path('build_core.py', run_name='__main__')\n"
             "except SystemExit as exc:\n    print('EXIT', exc.code)\n")
    env = {key: value for key, value in os.environ.items() if key != "BOT_CORE"}
    done = subprocess.run([sys.executable, "-c", build], cwd=tmp_path, env={**env, "PYTHONPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=600)
    assert "EXIT 1" in done.stdout and "changed during the build" in done.stderr, done.stderr[-2000:]
    assert _is_current_in(tmp_path) == (False, False)  # nothing stale recorded as current
