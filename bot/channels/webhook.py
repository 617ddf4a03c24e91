"""Webhook calls: the announcement's JSON POSTed to its address, signed as GitHub and Stripe sign theirs.

``X-Consent-Bot-Signature: t=<unix time>,v1=<hex>``, where the hex is HMAC-SHA256, keyed with the webhook's secret,
of ``<unix time>.<body>``: the receiver recomputes it and refuses a call whose time is too old (a replay). A call
tried again carries the same ``X-Consent-Bot-Delivery``, so that a receiver can drop a copy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp

from bot.config.settings import WebhookSettings
from bot.messages.outgoing import Outgoing, Undeliverable

TIMEOUT = aiohttp.ClientTimeout(total=20)


def signature(secret: bytes, body: bytes, at: int) -> str:
    return f"t={at},v1=" + hmac.new(secret, f"{at}.".encode() + body, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings

    async def send(self, message: Outgoing) -> None:
        call = message.payload
        body = json.dumps(call["body"], ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json", "User-Agent": "consent-bot",
            "X-Consent-Bot-Event": call["event"], "X-Consent-Bot-Delivery": call["body"]["delivery"],
            "X-Consent-Bot-Signature": signature(self._settings.secret.get_secret_value().encode(), body,
                                                 int(time.time())),
        }
        async with aiohttp.ClientSession() as session, session.post(  # a call now and then: no pool to keep
                self._settings.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False) as response:
            if 200 <= response.status < 300:
                return
            if response.status in (408, 429) or response.status >= 500:
                raise ConnectionError(f"HTTP {response.status}")  # later
            raise Undeliverable(f"HTTP {response.status}: the address refuses the call (webhooks.url, its secret?)")
