"""Websocket frames → plain values. Pure functions; ``post`` and ``reaction`` come JSON-encoded twice."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


def frame(text: str) -> dict | None:
    """An event frame (``{"event": ..., "data": ...}``), or None for replies and anything unreadable."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("event"), str) else None


def inner(data: Any, key: str) -> dict | None:
    """``data[key]``: a JSON string of an object (decoded), tolerating an object as is."""
    if not isinstance(data, dict):
        return None
    value = data.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def timestamp(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms or 0) / 1000, tz=timezone.utc)


def is_member_post(post: dict, bot_id: str) -> bool:
    """A live post a member wrote: not the bot's, not a system message, not deleted."""
    return (post.get("user_id") != bot_id and not str(post.get("type") or "").startswith("system_")
            and not post.get("delete_at") and (post.get("props") or {}).get("from_bot") != "true"
            and bool(post.get("id")) and bool(post.get("channel_id")))


def reaction_event_id(reaction: dict, create_at: Any) -> str:
    """The same reaction always has the same id, whether it came live or from a resync."""
    return f"reaction:{reaction['post_id']}:{reaction['user_id']}:{reaction['emoji_name']}:{create_at}"


def edit_event_id(post: dict) -> str:
    return f"{post['id']}@{post.get('edit_at')}"


def deleted_event_id(post_id: str) -> str:
    """The deletion of a post, the same whether seen live (post_deleted) or in a resync (delete_at set)."""
    return f"deleted:{post_id}"
