"""A thin Mattermost REST API v4 client over aiohttp: the dozen calls the bot needs, nothing more.

- ``Authorization: Bearer <token>`` on every request;
- answers are JSON (the server may send ``null`` for an empty list: callers get ``None``);
- a 429 is waited out as the server asks (``Retry-After``, else ``X-Ratelimit-Reset``), then retried:
  creating a post is safe to retry because it carries a ``pending_post_id`` the server de-duplicates;
- any other error raises :class:`MattermostApiError` with the server's AppError id and message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 5
MAX_WAIT = 60.0
REQUEST_TIMEOUT = 30.0
PAGE_SIZE = 200
"""Posts per page when paging through a channel: the server's maximum."""
SINCE_LIMIT = 1000
"""The most posts a ``since`` listing holds (the server's LIMIT)."""


class MattermostApiError(Exception):
    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message


class MattermostClient:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._session: aiohttp.ClientSession | None = None
        self.rate_limited = 0
        """How many requests the server asked to retry later (429)."""
        self.rate_limited_for = 0.0
        """Seconds waited as the server asked."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    @property
    def websocket_url(self) -> str:
        base = "wss://" + self.url[len("https://"):] if self.url.startswith("https://") \
            else "ws://" + self.url[len("http://"):]
        return f"{base}/api/v4/websocket"

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      body: Any = None) -> Any:
        data = None if body is None else json.dumps(body)
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            async with self.session.request(method, f"{self.url}/api/v4{path}", params=params, data=data,
                                            headers=headers) as response:
                text = await response.text()
                if response.status == 429 and attempt < RATE_LIMIT_RETRIES:
                    self.rate_limited += 1
                    delay = _retry_delay(response.headers)
                    self.rate_limited_for += delay
                    log.info("rate-limited on %s %s; retrying in %.1f s", method, path, delay)
                    await asyncio.sleep(delay)
                    continue
                if response.status >= 400:
                    raise _error(response.status, text)
                return json.loads(text) if text.strip() else None
        raise AssertionError("unreachable")

    # --- the calls the bot makes ---------------------------------------------------------------------------

    async def me(self) -> dict:
        return await self.request("GET", "/users/me")

    async def teams(self) -> list[dict]:
        return await self.request("GET", "/users/me/teams") or []

    async def channels(self, team_id: str) -> list[dict]:
        return await self.request("GET", f"/users/me/teams/{team_id}/channels") or []

    async def channel(self, channel_id: str) -> dict:
        return await self.request("GET", f"/channels/{channel_id}")

    async def channel_members(self, channel_id: str) -> list[dict]:
        members: list[dict] = []
        page = 0
        while True:
            chunk = await self.request("GET", f"/channels/{channel_id}/members",
                                       params={"page": page, "per_page": 200}) or []
            members.extend(chunk)
            if len(chunk) < 200:
                return members
            page += 1

    async def channel_member(self, channel_id: str, user_id: str) -> dict | None:
        try:
            return await self.request("GET", f"/channels/{channel_id}/members/{user_id}")
        except MattermostApiError as error:
            if error.status == 404:
                return None
            raise

    async def users(self, user_ids: list[str]) -> list[dict]:
        return await self.request("POST", "/users/ids", body=user_ids) or []

    async def posts_since(self, channel_id: str, since_ms: int) -> list[dict]:
        """Posts of the channel changed (created, edited, deleted) after ``since_ms``, oldest first — but at most
        :data:`SINCE_LIMIT` of them, and the server picks which (in practice the oldest changes): use it for
        edits and deletions, and :meth:`posts_created_after` for new posts."""
        listing = await self.request("GET", f"/channels/{channel_id}/posts", params={"since": since_ms}) or {}
        return _oldest_first(p for p in (listing.get("posts") or {}).values() if p.get("channel_id") == channel_id)

    async def posts_page(self, channel_id: str, page: int, per_page: int = PAGE_SIZE) -> list[dict]:
        """One page of the channel's live posts, newest first (page 0 holds the newest)."""
        listing = await self.request("GET", f"/channels/{channel_id}/posts",
                                     params={"page": page, "per_page": per_page}) or {}
        posts = listing.get("posts") or {}
        # `posts` also holds the rest of each post's thread; `order` is the page itself.
        return [posts[i] for i in listing.get("order") or [] if isinstance(posts.get(i), dict)]

    async def posts_created_after(self, channel_id: str, since_ms: int) -> list[dict]:
        """Every live post of the channel created after ``since_ms``, however many, oldest first.

        Pages are read newest first until one reaches back to ``since_ms``. A post created meanwhile shifts the
        pages: one post is then seen twice (kept once). A post deleted meanwhile shifts them the other way and
        may hide one: the caller also reads :meth:`posts_since`, which holds it unless 1000 posts changed."""
        found: dict[str, dict] = {}
        page = 0
        while True:
            chunk = await self.posts_page(channel_id, page)
            for post in chunk:
                if post.get("create_at", 0) > since_ms and post.get("channel_id") == channel_id:
                    found[post["id"]] = post
            # Not "a short page is the last": a server with a lower cap would end the reading early.
            if not chunk or min(p.get("create_at", 0) for p in chunk) <= since_ms:
                return _oldest_first(found.values())
            page += 1

    async def post(self, post_id: str) -> dict:
        return await self.request("GET", f"/posts/{post_id}")

    async def create_post(self, channel_id: str, message: str, *, root_id: str | None = None,
                          props: dict | None = None, pending_post_id: str | None = None) -> dict:
        body: dict[str, Any] = {"channel_id": channel_id, "message": message}
        if root_id:
            body["root_id"] = root_id
        if props:
            body["props"] = props
        if pending_post_id:
            body["pending_post_id"] = pending_post_id
        return await self.request("POST", "/posts", body=body)

    async def react(self, user_id: str, post_id: str, emoji_name: str) -> dict:
        return await self.request("POST", "/reactions",
                                  body={"user_id": user_id, "post_id": post_id, "emoji_name": emoji_name})

    async def reactions(self, post_id: str) -> list[dict]:
        return await self.request("GET", f"/posts/{post_id}/reactions") or []  # null when there are none


def _oldest_first(posts: Any) -> list[dict]:
    return sorted(posts, key=lambda p: (p.get("create_at", 0), p.get("id", "")))


def _retry_delay(headers: Any) -> float:
    for name in ("Retry-After", "X-Ratelimit-Reset"):
        value = headers.get(name)
        if value:
            try:
                return min(max(float(value), 0.0), MAX_WAIT)
            except ValueError:
                continue
    return 1.0


def _error(status: int, text: str) -> MattermostApiError:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        return MattermostApiError(status, str(body.get("id", "")), str(body.get("message", "")))
    return MattermostApiError(status, "", text.strip()[:200])
