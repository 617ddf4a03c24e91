"""Ways out beyond the chat: the SMTP server of a mailing list, and webhooks (bot.app.announcer sends through them)."""

from __future__ import annotations

from bot.config import Config
from bot.messages.outgoing import Outgoing, Undeliverable


class Channels:
    """The way out of each announcement, as the configuration of its room says now."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def __call__(self, message: Outgoing) -> object:
        from bot.app.scopes import settings_for
        from bot.channels.mail import MailServer
        from bot.channels.webhook import Webhook

        settings = settings_for(self._config, message.scope, message.room)
        if message.channel == "email":
            return MailServer(settings.email)
        name = message.channel.removeprefix("webhook:")
        hook = next((hook for hook in settings.webhooks if hook.name == name), None)
        return Webhook(hook) if hook is not None else _Gone(f"no webhook is named {name} any more")


class _Gone:
    def __init__(self, why: str) -> None:
        self._why = why

    async def send(self, message: Outgoing) -> None:
        raise Undeliverable(self._why)
