"""`machine.rounding.round_to` is `round(x, n)`, the same double bit for bit (sign of zero too):
stops, sizes and fills are rounded with it, and journals must not change."""
from __future__ import annotations

import struct

from hypothesis import example, given, settings
from hypothesis import strategies as st

from machine.rounding import round_to


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


NEAR_TIES = st.builds(lambda k, n, nudge: k / 10 ** n + 5 * 10.0 ** -(n + 1) + nudge,
                      st.integers(-10 ** 9, 10 ** 9), st.integers(0, 9), st.sampled_from([0.0, 1e-15, -1e-15, 1e-12]))


@settings(max_examples=3000)
@given(x=st.floats(allow_nan=True, allow_infinity=True) | NEAR_TIES | st.floats(-1e6, 1e6),
       n=st.integers(-3, 25))
@example(x=-0.004, n=2).via("a negative number rounding to zero keeps its sign")
@example(x=2.675, n=2).via("binary 2.67499999... rounds down")
@example(x=0.125, n=2).via("an exact tie rounds half to even")
@example(x=6.35 + 0.116, n=9)
def test_round_to_is_round_bit_for_bit(x, n):
    expected = round(x, n)
    got = round_to(x, n)
    assert bits(got) == bits(expected) or (got != got and expected != expected)
