"""A power loss mid-batch: the torn tail keeps a trail move's new stop intent but cuts the old stop's cancel.
The restart must not keep two live stops (reconciliation cancels the superseded one once the new one rests,
so no reduce-only stop lingers after the position closes), and `journal replay` reports the cut decisions as
lost in the crash, not as divergences (they were never durable, so never sent)."""
from __future__ import annotations

import os
from pathlib import Path

from cli.bootstrap import RunSpec, assemble
from cli.clock import FixedIds, SimClock
from exchange.ohlcv import load_candles
from exchange.paper import PaperExchange
from cli.replay import replay_journal, replay_records
from journal.codec import encode
from journal.events import INPUT_TYPES, JournalRecovered, OrderCancelRequested, StopMoved
from journal.framing import FRAME, HEADER_SIZE
from journal.record import Record
from journal.reader import read_events, read_records
from machine.params import Params

FIXTURES = Path(__file__).parent / "data" / "ohlcv"
CANDLES = load_candles(FIXTURES, ("BTC/USDT",), "1h", bars=400)
SYMBOL = "BTC/USDT"


class Died(Exception):
    pass


class DiesOnReplacement(PaperExchange):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.die = True

    def submit(self, order):
        resting = [o for o in self.open_orders(order.symbol) if o.order_kind == "stop_market"]
        if self.die and order.purpose == "stop" and resting:
            raise Died("power loss while the trail batch reached the disk")
        return super().submit(order)


def spec(path: Path) -> RunSpec:
    return RunSpec(mode="paper", journal_dir=path, params=Params(enable_pyramiding=False), symbols=(SYMBOL,),
                   timeframe="1h")


def crash_on_a_trail_move(tmp_path: Path):
    """Trade until the first trail move, and die (power loss) as its new stop is sent: the whole batch is on
    disk, nothing after it. Returns the venue, the journal and the index of the bar being fed."""
    venue = DiesOnReplacement()
    journal = tmp_path / "j"
    rt = assemble(spec(journal), venue, SimClock(), FixedIds("a"), durable=True, session_ts=CANDLES[0].ts)
    i = 0
    try:
        for i, candle in enumerate(CANDLES):
            rt.loop.feed(candle)
    except Died:
        pass
    rt.journal._close_fd()  # the process is gone: its file and lock with it
    rt.journal._lock.release()
    return venue, journal, i


def restart_and_trade_on(venue, journal: Path, i: int) -> None:
    venue.die = False
    rt = assemble(spec(journal), venue, SimClock(), FixedIds("b"), durable=True, session_ts=CANDLES[i].ts)
    for candle in CANDLES[i + 1:]:
        rt.loop.feed(candle)
    rt.close()


def stops(venue) -> list:
    return [o for o in venue.open_orders(SYMBOL) if o.order_kind == "stop_market"]


def test_a_torn_trail_batch_leaves_no_stale_stop_after_the_position_closes(tmp_path):
    venue, journal, i = crash_on_a_trail_move(tmp_path)
    last = list(read_events(journal))[-1]
    assert isinstance(last, OrderCancelRequested) and last.reason == "replaced"
    [seg] = sorted(journal.glob("*.seg"))[-1:]
    os.truncate(seg, seg.stat().st_size - 3)  # the cancel record never fully reached the disk
    venue.die = False

    rt2 = assemble(spec(journal), venue, SimClock(), FixedIds("b"), durable=True, session_ts=CANDLES[i].ts)
    try:
        live_stops = [c for c, r in rt2.loop.state.orders.items() if r.purpose == "stop" and not r.cancel_requested]
        assert len(live_stops) <= 1, f"the state tracks two live stops for one position: {live_stops}"
        for candle in CANDLES[i + 1:]:
            rt2.loop.feed(candle)
            if not venue.positions():
                assert not stops(venue), f"flat, yet reduce-only stops rest at the venue: {stops(venue)}"
    finally:
        rt2.close()


def test_a_journal_with_a_torn_decision_batch_still_replays(tmp_path):
    venue, journal, i = crash_on_a_trail_move(tmp_path)
    [seg] = sorted(journal.glob("*.seg"))[-1:]
    os.truncate(seg, seg.stat().st_size - 3)
    restart_and_trade_on(venue, journal, i)
    result = replay_journal(journal)
    assert result.ok, [d.line() for d in result.divergences][:5]


def test_a_tear_before_the_new_stops_intent_still_replays(tmp_path):
    # Any byte of the batch can be the last on disk: cut inside the new stop's intent, keeping candle + stop_moved.
    # The restarted bot folded only what was recorded; replay rebuilds its state the same way at the recovery.
    venue, journal, i = crash_on_a_trail_move(tmp_path)
    [seg] = sorted(journal.glob("*.seg"))[-1:]
    records = list(read_records(journal))
    stop_moved = max((r for r in records if isinstance(r.event, StopMoved)), key=lambda r: r.seq)
    assert isinstance(records[-1].event, OrderCancelRequested) and records[-2].seq == stop_moved.seq + 1
    os.truncate(seg, _offset_of(seg, stop_moved.seq + 1) + 20)  # 20 bytes of the new stop's intent survive
    restart_and_trade_on(venue, journal, i)
    result = replay_journal(journal)
    assert result.ok and result.lost_in_crash >= 2, [d.line() for d in result.divergences][:5]


def test_decisions_missing_before_a_tear_of_the_next_input_are_divergences(tmp_path):
    # The quarantined bytes show what the tear cut: the next input's record means the batch before it was whole,
    # so a decision missing from it is a divergence, not a crash loss.
    journal = tmp_path / "j"
    rt = assemble(spec(journal), PaperExchange(), SimClock(), FixedIds("a"), durable=True, session_ts=CANDLES[0].ts)
    for candle in CANDLES[:200]:
        rt.loop.feed(candle)
    rt.close()
    recs = list(read_records(journal))
    k = max(n for n in range(len(recs) - 1) if type(recs[n].event) not in INPUT_TYPES
            and type(recs[n + 1].event) in INPUT_TYPES)  # the last decision of some input
    tampered = recs[:k] + recs[k + 1:]  # that decision was never made by the recording code
    torn = JournalRecovered(ts=recs[k].ts, segment="s", offset=0, cut_bytes=60, quarantine_file="q",
                            last_good_seq=recs[k].seq)
    marker = Record(seq=recs[k].seq, ts=recs[k].ts, recorded_at=0, v=recs[k].v, prev=recs[k].prev, event=torn)
    next_input = encode(Record(seq=recs[k].seq + 1, ts=CANDLES[200].ts, recorded_at=0, v=recs[k].v, prev=bytes(16),
                               event=CANDLES[200]))
    as_input = replay_records(tampered[:k] + [marker] + tampered[k:], quarantined=lambda _: b"\0" * 12 + next_input[:60])
    assert as_input.divergence_count >= 1 and as_input.lost_in_crash == 0
    as_decision = replay_records(tampered[:k] + [marker] + tampered[k:], quarantined=lambda _: b"\0" * 12)
    assert as_decision.lost_in_crash == 1  # unreadable: the tear may have cut the batch itself


def _offset_of(seg, seq: int) -> int:
    """Byte offset of record `seq` in segment file `seg`."""
    data = seg.read_bytes()
    pos, n = HEADER_SIZE, int(seg.name[:20])
    while n < seq:
        pos += FRAME.size + FRAME.unpack_from(data, pos)[0]
        n += 1
    return pos
