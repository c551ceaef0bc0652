"""`round(x, n)` for floats, bit for bit, without its decimal-string round trip when the answer is clear.

CPython rounds a float to n decimals exactly: it writes the binary value out in decimal (correctly
rounded, half to even), then reads the digits back, ~2,000 instructions a call; stops, sizes and fills
round several times a bar. Here y = x * 10**n is computed in binary. Its error is at most half an ulp
of y, so when y lies further than an ulp from a half-integer, the integer nearest the exact x * 10**n
is the one nearest y, k; and k / 10**n (both exact doubles, one correctly rounded division) is then
the double nearest the decimal k * 10**-n, which is what CPython returns. Anything closer to a tie,
huge, or not finite takes `round` itself. tests/test_rounding.py checks both agree bit for bit.
"""
from __future__ import annotations

import math
from typing import Final

_POW10: Final = [10.0 ** n for n in range(23)]  # exact doubles up to 1e22
_LIMIT: Final = 1e15  # |y| below 2**53: y's integer part and k are exact
_ULP_BOUND: Final = 4.5e-16  # > 2**-52, so |y| * _ULP_BOUND > ulp(y)


def round_to(x: float, n: int) -> float:
    """round(x, n), the same double, sign of zero included."""
    if n < 0 or n > 22:
        return round(x, n)
    p = _POW10[n]
    y = x * p
    if -_LIMIT < y < _LIMIT:
        floor_y = math.floor(y)
        fraction = y - floor_y
        if abs(fraction - 0.5) > abs(y) * _ULP_BOUND:
            k = floor_y + 1 if fraction > 0.5 else floor_y
            if k == 0:
                return math.copysign(0.0, x)
            return k / p
    return round(x, n)
