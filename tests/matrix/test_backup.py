"""Backups that restore: `consent-bot backup` taken while a burst of votes goes on, the bot killed, the backup
put back with `consent-bot restore`, the bot started again. Every line of history recorded before the backup is
in it, and what came after is read again from the homeserver: every member's position is what they last said,
and nothing the bot had said is said twice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter

from bot.matrix.events import SENT_AS
from tests.polling import query

from .bot_harness import answer_to, bot_config, propose, room_with_bot
from .crashes import BotProcess, burst
from .member import content

VOTERS, ACTIONS_EACH, BACKUP_AFTER = 16, 8, 60
HISTORY = "SELECT event_id, action, member FROM history ORDER BY id"


def consent_bot(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *arguments], capture_output=True, text=True, timeout=60)


async def test_a_backup_taken_during_a_burst_restores_and_the_homeserver_gives_back_what_came_after(
        members, voters, bot_account, tmp_path):
    alice, = await members("alice")
    crowd = await voters(VOTERS)
    config = bot_config(tmp_path, bot_account, [alice.user_id], minimum_duration="1h")
    path, archive = tmp_path / "config.yaml", tmp_path / "backups" / "consent.tar"
    bot = BotProcess(path, tmp_path / "bot.log")
    bot.start()
    before_backup: list = []

    async def back_up() -> None:
        before_backup.extend(query(config.storage.path, HISTORY))  # append-only: all of it must be in the backup
        taken = await asyncio.to_thread(consent_bot, "backup", "--config", str(path), "--output", str(archive))
        assert taken.returncode == 0, taken.stderr
        assert "the register and the encryption store" in taken.stdout

    try:
        room = await room_with_bot(alice, bot_account.user_id, *crowd)
        ballot = await propose(alice, room, bot_account.user_id)
        expected = await burst(crowd, room, ballot.event_id, ACTIONS_EACH, [(BACKUP_AFTER, back_up)], seed=11)
        await answer_to(alice, room, bot_account.user_id, "status", await alice.send_text(room, "!status #1"),
                        timeout=60)
        everything = query(config.storage.path, HISTORY)
        refused = consent_bot("restore", "--config", str(path), "--input", str(archive))
        assert refused.returncode == 2 and f"process {bot.process.pid} " in refused.stderr  # not under a running bot

        bot.kill()
        restored = consent_bot("restore", "--config", str(path), "--input", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert "The encryption store in place was kept" in restored.stdout
        at_restore = [tuple(row) for row in query(config.storage.path, HISTORY)]
        assert [tuple(row) for row in before_backup] == at_restore[:len(before_backup)]
        assert len(at_restore) < len(everything)  # the burst went on after the backup: that part is not in it

        bot.start()
        asked = await alice.send_text(room, "!status #1")
        await answer_to(alice, room, bot_account.user_id, "status", asked, timeout=60)
        recorded = {row["member"]: row["position"] for row in query(
            config.storage.path, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
        wanted = {member: e.position_at() for member, e in expected.items() if e.position_at() is not None}
        assert recorded == wanted
        # The homeserver gave back every event after the backup, and the history holds it again; but a word taken
        # back (redacted) since has lost its content on the homeserver: it is read as the removal alone, the
        # position is the same, and the history no longer shows that word (README, "Backups").
        again = {row["event_id"] for row in query(config.storage.path, HISTORY)}
        missing = {row["event_id"] for row in everything if row["event_id"]} - again
        assert missing <= {event for e in expected.values() for event in e.taken_back}, missing
        # Nothing the bot said before the kill was said again (answers and reactions to the same events).
        said = Counter(content(e).get(SENT_AS) for e in alice.matching(room=room)
                       if e.sender == bot_account.user_id and content(e).get(SENT_AS))
        assert said and max(said.values()) == 1, [key for key, times in said.items() if times > 1]
    finally:
        bot.stop()
