"""`consent-bot health`: ask the running bot's operations listener whether it is ready, as a script or Docker's
HEALTHCHECK would, with the standard library alone (it runs every half minute: it must start fast)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from bot.config import Config
from bot.local_address import local_url

ANSWER_WITHIN = 10.0
"""Seconds the bot has to answer."""


def ask_readiness(config: Config) -> dict[str, Any]:
    """What the bot's /readyz says (``ready`` and each check), or why it could not be asked."""
    if not config.ops.enabled:
        return {"ready": False, "error": "the operations listener is off: set ops.enabled (CONSENT_BOT_OPS_ENABLED)"}
    url = f"{local_url(config.ops.bind, config.ops.port)}/readyz"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP proxy
    try:
        with direct.open(url, timeout=ANSWER_WITHIN) as response:
            body = response.read()
    except urllib.error.HTTPError as error:  # 503: not ready, and the body says why
        body = error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        return {"ready": False, "error": f"no answer from {url}: {reason}"}
    try:
        return json.loads(body)
    except ValueError:
        return {"ready": False, "error": f"{url} answered something other than the bot's JSON"}
