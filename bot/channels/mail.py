"""Mails through the assembly's SMTP server (aiosmtplib), built with the standard email package."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from bot.config.settings import MailSettings
from bot.messages.outgoing import Outgoing, Undeliverable

TIMEOUT = 30.0


def email_message(message: Outgoing) -> EmailMessage:
    """The mail an announcement queued (bot.messages.announcement.mail): its text and HTML alternatives, with the
    headers that thread a proposal's mails and tell autoresponders it is automatic."""
    mail = message.payload
    built = EmailMessage(policy=SMTP)
    built["From"] = mail["from"]
    built["To"] = ", ".join(mail["to"])
    built["Subject"] = mail["subject"]
    built["Date"] = format_datetime(datetime.fromisoformat(mail["date"]))
    built["Message-ID"] = mail["message_id"]
    if mail["message_id"] != mail["thread"]:
        built["In-Reply-To"] = mail["thread"]
        built["References"] = mail["thread"]
    built["Auto-Submitted"] = "auto-generated"
    built.set_content(mail["text"])
    built.add_alternative(mail["html"], subtype="html")
    return built


class MailServer:
    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings

    async def send(self, message: Outgoing) -> None:
        import aiosmtplib  # only where mails are sent: it costs every start otherwise

        settings = self._settings
        try:
            await aiosmtplib.send(
                email_message(message), hostname=settings.host, port=settings.port, timeout=TIMEOUT,
                use_tls=settings.security == "tls", start_tls=settings.security == "starttls",
                username=settings.user or None, password=settings.password.get_secret_value() or None)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            if all(500 <= error.code < 600 for error in refused.recipients):
                raise Undeliverable(f"every list address refused: {refused.recipients[0].message}") from None
            raise
        except aiosmtplib.SMTPResponseException as refused:
            if 500 <= refused.code < 600:  # 4xx means "later"; 5xx "never as it is"
                raise Undeliverable(f"{refused.code} {refused.message}") from None
            raise
