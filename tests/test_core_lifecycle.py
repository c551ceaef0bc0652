"""The per-symbol lifecycle table: legal edges only, and the README diagram is generated from it."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machine.lifecycle import TRANSITIONS, IllegalTransition, Phase, fire, legal_edges, mermaid

ROOT = Path(__file__).resolve().parent.parent
PHASES = [p.value for p in Phase]
TRIGGERS = sorted({t["trigger"] for t in TRANSITIONS})


def test_every_phase_of_the_design_exists():
    assert set(PHASES) == {"flat", "entering", "long", "short", "pyramided", "exiting", "halted"}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PHASES), st.sampled_from(TRIGGERS + ["bogus", "to_flat"]))
def test_an_edge_is_legal_iff_it_is_in_the_table(phase, trigger):
    allowed = {(s, t): d for s, t, d in legal_edges()}
    if (phase, trigger) in allowed:
        assert fire(phase, trigger) == allowed[(phase, trigger)]
    else:
        with pytest.raises(IllegalTransition):
            fire(phase, trigger)


def test_no_automatic_to_state_triggers():
    assert not any(t.startswith("to_") for _, t, _ in legal_edges())


def test_every_state_can_be_halted_and_resumed():
    for phase in PHASES:
        if phase != "halted":
            assert fire(phase, "halt") == "halted"
    for phase in ("flat", "entering", "long", "short", "pyramided", "exiting"):
        assert fire("halted", f"resume_{phase}") == phase


def _readme_diagram() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- state-diagram:begin -->\n```mermaid\n(.*?)```\n<!-- state-diagram:end -->", text, re.S)
    assert match, "README lacks the generated state diagram between the state-diagram markers"
    return match.group(1)


def test_readme_state_diagram_matches_the_table():
    assert _readme_diagram() == mermaid()


def _bot(args, monkeypatch, capsys):
    from cli.main import bot_main

    monkeypatch.setattr(sys, "argv", ["bot", *args])
    with pytest.raises(SystemExit) as exc:
        bot_main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_state_diagram_command_prints_the_same_mermaid_and_check_passes(monkeypatch, capsys):
    assert _bot(["state-diagram"], monkeypatch, capsys) == (0, mermaid(), "")
    code, out, err = _bot(["state-diagram", "--check", str(ROOT / "README.md")], monkeypatch, capsys)
    assert code == 0, err


def test_state_diagram_check_fails_on_a_stale_copy_and_write_fixes_it(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "README.md"
    stale.write_text("# x\n<!-- state-diagram:begin -->\n```mermaid\nold\n```\n<!-- state-diagram:end -->\n")
    code, _, err = _bot(["state-diagram", "--check", str(stale)], monkeypatch, capsys)
    assert code == 1 and "differs" in err
    assert _bot(["state-diagram", "--write", str(stale)], monkeypatch, capsys)[0] == 0
    assert _bot(["state-diagram", "--check", str(stale)], monkeypatch, capsys)[0] == 0
    assert stale.read_text().startswith("# x\n")
