"""MDD, drawdown and period returns against hand-computed equity curves."""
import pandas as pd
import pytest

from projections.metrics import report_metrics
from projections.metrics_equity import drawdown_series, period_returns
from projections.metrics_frames import frames_connection


def ms(iso: str) -> int:
    return int(pd.Timestamp(iso, tz="UTC").value // 1_000_000)


def curve(points):
    return pd.DataFrame({"ts": [ms(t) for t, _ in points], "equity": [float(e) for _, e in points]})


def test_mdd_is_largest_peak_to_trough_over_peak():
    eq = curve([("2024-01-01", 100), ("2024-01-02", 120), ("2024-01-03", 90),
                ("2024-01-04", 130), ("2024-01-05", 65), ("2024-01-06", 70)])
    m = report_metrics(None, eq)
    assert m["mdd"] == pytest.approx(0.5)                # 130 -> 65
    assert m["mdd_trough_ts"] == ms("2024-01-05")
    assert m["total_return"] == pytest.approx(-0.3)
    dd, bucket = drawdown_series(frames_connection(None, eq))
    assert bucket == 1
    assert dd["drawdown"].round(6).tolist() == [0, 0, 0.25, 0, 0.5, round(60 / 130, 6)]


def test_rising_curve_has_zero_mdd_and_no_equity_has_a_note():
    assert report_metrics(None, curve([("2024-01-01", 1), ("2024-01-02", 2)]))["mdd"] == 0.0
    m = report_metrics(None, None)
    assert m["mdd"] is None and m["mdd_note"] == "no equity series"


def test_equal_timestamps_are_ordered_by_seq():
    eq = pd.DataFrame({"ts": [5, 5, 5], "equity": [80.0, 100.0, 90.0], "seq": [3, 1, 2]})
    # in seq order: 100, 90, 80 -> mdd 0.2, ends at 80
    m = report_metrics(None, eq)
    assert m["mdd"] == pytest.approx(0.2) and m["end_equity"] == 80.0


POINTS = [("2024-01-06 00:00", 100), ("2024-01-06 12:00", 110), ("2024-01-07", 99),
          ("2024-01-08", 108.9), ("2024-02-01", 119.79)]


@pytest.mark.parametrize("period,expected", [
    ("daily", [("2024-01-06", 100, 110), ("2024-01-07", 110, 99), ("2024-01-08", 99, 108.9),
               ("2024-02-01", 108.9, 119.79)]),
    ("weekly", [("2024-01-01", 100, 99), ("2024-01-08", 99, 108.9), ("2024-01-29", 108.9, 119.79)]),
    ("monthly", [("2024-01-01", 100, 108.9), ("2024-02-01", 108.9, 119.79)]),
])
def test_period_returns_chain_from_previous_period_close(period, expected):
    got = period_returns(frames_connection(None, curve(POINTS)), period)
    assert [p.strftime("%Y-%m-%d") for p in got["period"]] == [e[0] for e in expected]
    assert got["start_equity"].tolist() == pytest.approx([e[1] for e in expected])
    assert got["end_equity"].tolist() == pytest.approx([e[2] for e in expected])
    assert got["return"].tolist() == pytest.approx([e[2] / e[1] - 1 for e in expected])


def test_thinned_drawdown_series_keeps_each_buckets_worst_drawdown():
    # 3 minutes, 4 marks each; minute 1 dips to 50 then recovers to 95
    values = [100, 101, 102, 103, 90, 50, 80, 95, 104, 104, 103, 105]
    eq = pd.DataFrame({"ts": [i * 15_000 for i in range(12)], "equity": [float(v) for v in values]})
    dd, bucket = drawdown_series(frames_connection(None, eq), max_rows=3)
    assert bucket == 60_000
    assert dd["ts"].tolist() == [0, 60_000, 120_000]
    assert dd["equity"].tolist() == [103, 95, 105]          # each minute's last mark
    assert dd["drawdown"].tolist() == pytest.approx([0, 53 / 103, 1 / 104])
    assert dd["marks"].tolist() == [4, 4, 4]


def test_equal_timestamps_without_seq_keep_row_order():
    eq = pd.DataFrame({"ts": [5, 5, 5, 5], "equity": [100.0, 70.0, 90.0, 80.0]})
    for _ in range(3):
        m = report_metrics(None, eq)
        assert (m["mdd"], m["end_equity"], m["start_equity"]) == (pytest.approx(0.3), 80.0, 100.0)
