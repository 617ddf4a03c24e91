"""Announcements survive a crash: ``consent-bot run`` on a real Synapse, its mailing list's SMTP server down, is
killed with SIGKILL once a proposal's mail and its outcome's are queued; the server comes back, the bot is started
again, and each mail arrives exactly once."""

from __future__ import annotations

from tests.polling import query, until
from tests.servers.announcements import SmtpServer, stopped

from .bot_harness import bot_config, from_bot, propose, room_with_bot
from .crashes import BotProcess
from .member import content


async def test_mails_queued_when_the_bot_is_killed_arrive_once_after_its_restart(members, bot_account, tmp_path):
    alice, bob = await members("alice", "bob")
    smtp = SmtpServer()  # not started: the list server is down
    email = {"lists": ["assembly@lists.example.org"], "sender": "Assembly <bot@example.org>", "host": "127.0.0.1",
             "port": smtp.port, "security": "none"}
    config = bot_config(tmp_path, bot_account, [alice.user_id], minimum_duration="3s", email=email)
    bot = BotProcess(tmp_path / "config.yaml", tmp_path / "bot.log")
    bot.start()
    try:
        room = await room_with_bot(alice, bot_account.user_id, bob)
        await propose(alice, room, bot_account.user_id)
        outcome = await alice.wait_for(from_bot(bot_account.user_id, "outcome", 1), room=room, timeout=30)
        assert content(outcome)["consent_bot"]["state"] == "adopted"  # the chat never waited on the mail

        def unsent() -> list:
            return query(config.storage.path, "SELECT key FROM outbox WHERE channel = 'email' AND sent_at IS NULL")

        await until(lambda: len(unsent()) == 2, what="both mails queued")
        await until(lambda: query(config.storage.path, "SELECT 1 FROM outbox WHERE channel = 'email' AND "
                                                       "attempts > 0"), what="the server tried, and down")
        bot.kill()
        smtp.start()
        bot.start()
        await until(lambda: not unsent(), timeout=30, what="both mails sent after the restart")
        assert [mail["Subject"].strip() for mail in smtp.mails] == ["[" + room + "] #1 proposed: Buy a kettle",
                                                           "[" + room + "] #1 adopted: Buy a kettle"]
        assert bot.kills == 1
    finally:
        bot.stop()
        await stopped(smtp)
