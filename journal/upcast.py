"""Schema evolution: turn an event written by an older schema into today's shape.

An upcaster works on builtins (the msgpack map of one event) and returns the next
version's map; `upcast_event` chains them up to `SCHEMA_VERSION`. Never delete a step:
old journals must decode forever.

v1 -> v2:
- `stop_updated {price}` became `stop_moved {stop_price}` (the reason was free text
  `why`, now `reason`);
- `order_filled` had no `fee_asset`; v1 fees were always charged in USDT.
"""
from __future__ import annotations

from typing import Any, Callable

from journal.events import SCHEMA_VERSION

EventMap = dict[str, Any]


def upcast_v1_v2(event: EventMap) -> EventMap:
    kind = event.get("kind")
    if kind == "stop_updated":
        out = {k: v for k, v in event.items() if k not in ("price", "why")}
        out["kind"] = "stop_moved"
        out["stop_price"] = event["price"]
        out["reason"] = event.get("why", "trail")
        return out
    if kind == "order_filled" and "fee_asset" not in event:
        return {**event, "fee_asset": "USDT"}
    return event


UPCASTERS: dict[int, Callable[[EventMap], EventMap]] = {1: upcast_v1_v2}
"""from-version -> step to from-version + 1."""


def upcast_event(version: int, event: EventMap) -> EventMap:
    """Apply every step from `version` up to the current schema."""
    if version > SCHEMA_VERSION:
        raise ValueError(f"written by schema v{version}; this code reads up to v{SCHEMA_VERSION}")
    for v in range(version, SCHEMA_VERSION):
        step = UPCASTERS.get(v)
        if step is None:
            raise ValueError(f"no upcaster from schema v{v}")
        event = step(event)
    return event
