"""The sync filters of a client that only reads rooms: the members' clients in the tests (tests/matrix/member.py)
and the benchmarks' bare nio bot (benchmarks/matrix_reference.py), which loads nothing else of the tests.

The first sync skips history (timeline limit 0); later syncs ask for up to 100 timeline events, so bursts are
not cut (Synapse's default of 10 silently drops events). The first request is unique (see member.py's pitfall:
Synapse's two-minute /sync cache)."""

from __future__ import annotations

import uuid
from typing import Any

SYNC_FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"not_types": ["*"]}}


def first_sync_filter() -> dict[str, Any]:
    """Timeline limit 0 (skip history), unique per call so Synapse's response cache cannot answer it."""
    return {"room": {"timeline": {"limit": 0}, "not_rooms": [f"!never-{uuid.uuid4().hex}:invalid"]},
            "presence": {"not_types": ["*"]}}
