"""A standby that takes over: two `consent-bot run` on one configuration's PostgreSQL database, each its own
Matrix device with its own encryption store. One acts, the other stands by; the one acting is killed with SIGKILL
during a burst of votes, then again just before the deadline, and each time the other takes over (the killed one
comes back as the standby). No vote is lost, the round has exactly one outcome, nothing is said twice, and the
takeover is timed; in an encrypted room the standby reads and acts on the first message after it took over."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import asyncpg
from nio import RoomMessage

from bot.matrix.events import SENT_AS
from tests.polling import until
from tests.servers.postgres import FOR_TESTS, PostgresServer

from .bot_harness import answer_to, bot_config, from_bot, propose, reaction_by, room_with_bot, status, tally
from .crashes import BotProcess, burst, sent_at
from .member import content
from .synapse import Account, free_port

VOTERS, ACTIONS_EACH, KILL_AFTER = 16, 8, 40
TAKEOVER_WITHIN = 15.0


class Pair:
    """Two bot processes on one database; which one acts, and how long each takeover took."""

    def __init__(self, folder: Path, accounts: list[Account], url: str, allowed: list[str], **assembly) -> None:
        self.processes = []
        self.ops: dict[BotProcess, str] = {}
        """Each process's operations listener (/readyz)."""
        for account in accounts:
            where = folder / account.device_id
            where.mkdir(parents=True)
            # A device without a token logs in with the password, and keeps its own token in the shared database.
            matrix = {"store_path": str(where / "crypto"), "password": "" if account.access_token else account.password}
            port = free_port()
            bot_config(where, account, allowed, matrix, {"url": url}, {"ops": {"enabled": True, "port": port}},
                       **assembly)
            self.processes.append(BotProcess(where / "config.yaml", where / "bot.log"))
            self.ops[self.processes[-1]] = f"http://127.0.0.1:{port}"
        self.active, self.standby = self.processes
        self.url = url
        self.takeovers: list[float] = []

    async def readiness(self, process: BotProcess) -> dict:
        async with aiohttp.ClientSession() as session, session.get(f"{self.ops[process]}/readyz") as response:
            return await response.json()

    @staticmethod
    def said(process: BotProcess, words: str) -> int:
        return process.log.read_text().count(words) if process.log.exists() else 0

    async def start(self) -> None:
        self.active.start()
        await until(lambda: self.said(self.active, "acting: "), timeout=30, what="the first bot to act")
        self.standby.start()
        await until(lambda: self.said(self.standby, "standing by: "), timeout=30, what="the second to stand by")

    async def kill_the_active_one(self) -> None:
        """SIGKILL the process acting; the standby takes over; the killed one comes back as the standby."""
        taken = self.said(self.standby, "acting: ")
        killed_at = time.time()
        await asyncio.to_thread(self.active.kill)
        await until(lambda: self.said(self.standby, "acting: ") > taken, timeout=30, what="the standby to take over")
        self.takeovers.append(logged_at(self.standby, "acting: ") - killed_at)
        self.active, self.standby = self.standby, self.active
        self.standby.start()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


async def rows(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


def said_once(member, room: str, bot_id: str) -> Counter:
    """How many times each message of the bot came in the room (by the transaction id its content carries)."""
    return Counter(content(e).get(SENT_AS) for e in member.matching(room=room)
                   if e.sender == bot_id and content(e).get(SENT_AS))


async def test_a_standby_takes_over_a_bot_killed_during_a_burst_and_just_before_a_deadline(
        members, voters, bot_account, synapse, postgres, tmp_path):
    alice, = await members("alice")
    crowd = await voters(VOTERS)
    url = await postgres.create_database()
    pair = Pair(tmp_path, [bot_account, await synapse.login(bot_account, "STANDBY")], url, [alice.user_id],
                minimum_duration="40s")
    bot_id = bot_account.user_id
    try:
        await pair.start()
        # The standby acts on nothing: it is ready (to take over) while its database answers, and says it stands by.
        assert await pair.readiness(pair.standby) == {"ready": True, "checks": {"database": {
            "ok": True, "lease": "standing by"}}}
        assert (await pair.readiness(pair.active))["checks"]["database"] == {"ok": True, "lease": "acting"}
        room = await room_with_bot(alice, bot_id, *crowd)
        ballot = await propose(alice, room, bot_id)
        deadline = datetime.fromisoformat(content(ballot)["consent_bot"]["deadline"])
        expected = await burst(crowd, room, ballot.event_id, ACTIONS_EACH, [(KILL_AFTER, pair.kill_the_active_one)],
                               seed=23)
        await answer_to(alice, room, bot_id, "status", await alice.send_text(room, "!status #1"), timeout=60)

        # Killed again a moment before the deadline: the round closes all the same, once, by the other process.
        await until(lambda: datetime.now(timezone.utc) > deadline - timedelta(seconds=2), timeout=60,
                    what="two seconds before the deadline")
        await pair.kill_the_active_one()
        outcome = await alice.wait_for(from_bot(bot_id, "outcome"), room=room, timeout=60)
        await answer_to(alice, room, bot_id, "status", await alice.send_text(room, "!list"), timeout=30)

        at = await sent_at(alice, room, [event for e in expected.values() for event, _, _ in e.said]
                           + [redaction for e in expected.values() for redaction in e.taken_back.values()])
        positions = {member: e.position_at(lambda event: at[event] < deadline) for member, e in expected.items()}
        recorded = {row["member"]: row["position"] for row in await rows(
            url, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
        assert recorded == {member: position for member, position in positions.items() if position is not None}
        counts = Counter(position for position in positions.values() if position is not None)
        assert {key: tally(outcome)[key] for key in ("agree", "abstain", "disagree")} == {
            key: counts[key] for key in ("agree", "abstain", "disagree")}
        assert tally(outcome)["block"] + tally(outcome)["unargued_block"] == counts["block"]
        assert len(alice.matching(from_bot(bot_id, "outcome"), room=room)) == 1
        assert len(alice.matching(from_bot(bot_id, "ballot"), room=room)) == 1
        said = said_once(alice, room, bot_id)
        assert said and max(said.values()) == 1, [key for key, times in said.items() if times > 1]
        print(f"takeovers after SIGKILL: {', '.join(f'{seconds:.1f} s' for seconds in pair.takeovers)}")
        assert len(pair.takeovers) == 2 and max(pair.takeovers) < TAKEOVER_WITHIN
    finally:
        pair.stop()


async def test_in_an_encrypted_room_the_standby_holds_the_keys_and_reads_the_first_message_after_taking_over(
        encrypted_members, bot_account, synapse, postgres, tmp_path):
    alice, bob = await encrypted_members("alice", "bob")
    url = await postgres.create_database()
    by_password = Account(bot_account.user_id, "", "STANDBY", bot_account.password, bot_account.homeserver)
    pair = Pair(tmp_path, [bot_account, by_password], url, [alice.user_id])
    bot_id = bot_account.user_id
    try:
        await pair.start()
        room = await room_with_bot(alice, bot_id, bob)
        ballot = await propose(alice, room, bot_id)
        block = await bob.send_text(room, "!block #1 The kitchen has no room for a second kettle.")
        await bob.wait_for(reaction_by(bot_id, block, "✅"), room=room)

        await pair.kill_the_active_one()
        agree = await alice.send_text(room, "!agree #1")  # encrypted with the room key both devices were given
        await alice.wait_for(reaction_by(bot_id, agree, "✅"), room=room, timeout=30)
        assert await status(alice, room, bot_id) == {"agree": 1, "abstain": 0, "disagree": 0, "block": 1,
                                                     "unargued_block": 0}
        answers = [e for e in alice.matching(room=room) if e.sender == bot_id and isinstance(e, RoomMessage)]
        assert all(getattr(e, "decrypted", False) for e in answers)  # the new device speaks encrypted too
        assert ballot.event_id in {e.event_id for e in answers}
        said = said_once(alice, room, bot_id)
        assert max(said.values()) == 1
        kept = await rows(url, "SELECT key FROM platform_state WHERE key LIKE 'matrix/access_token%'")
        assert [row["key"] for row in kept] == ["matrix/access_token/STANDBY"]  # its own, not the first device's
    finally:
        pair.stop()


class Cut:
    """The network between one process and the database cut (iptables on loopback): every packet of its
    connections dropped both ways, and no new connection to the database let through, until healed."""

    def __init__(self, pid: int, port: int) -> None:
        listed = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"], capture_output=True,
                                text=True, check=True).stdout
        ports = [int(match) for line in listed.splitlines() if f"pid={pid}," in line
                 for match in re.findall(r"127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:" + str(port), line)]
        assert ports, f"process {pid} has no connection to port {port}: {listed}"
        self.rules = [["-p", "tcp", "--dport", str(port), "--syn", "-j", "DROP"]]
        for own in ports:
            self.rules += [["-p", "tcp", "--sport", str(own), "--dport", str(port), "-j", "DROP"],
                           ["-p", "tcp", "--sport", str(port), "--dport", str(own), "-j", "DROP"]]
        for rule in self.rules:
            subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)

    def heal(self) -> None:
        for rule in self.rules:
            subprocess.run(["iptables", "-D", "INPUT", *rule], check=False)
        self.rules = []


def logged_at(process: BotProcess, words: str) -> float:
    """When the process last logged these words (its log's clock)."""
    line = [line for line in process.log.read_text().splitlines() if words in line][-1]
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


async def test_a_standby_takes_over_when_the_network_to_the_database_is_cut(members, voters, bot_account, synapse,
                                                                            tmp_path):
    alice, = await members("alice")
    crowd = await voters(VOTERS)
    server = await asyncio.to_thread(PostgresServer.start, FOR_TESTS, free_port())
    pair = Pair(tmp_path, [bot_account, await synapse.login(bot_account, "STANDBY")], await server.create_database(),
                [alice.user_id], minimum_duration="1h")
    bot_id = bot_account.user_id
    cut = None
    try:
        await pair.start()
        room = await room_with_bot(alice, bot_id, *crowd)
        ballot = await propose(alice, room, bot_id)

        async def cut_the_active_one() -> None:
            nonlocal cut
            cut_off, standby = pair.active, pair.standby
            taken = pair.said(standby, "acting: ")
            cut = Cut(cut_off.process.pid, server.port)
            cut_at = time.time()
            await until(lambda: pair.said(standby, "acting: ") > taken, timeout=30, what="the standby to take over")
            pair.takeovers.append(logged_at(standby, "acting: ") - cut_at)
            # The one cut off stopped acting by itself before the other began: never two at once.
            assert pair.said(cut_off, "lost the lease") and logged_at(cut_off, "lost the lease") < \
                logged_at(standby, "acting: ")
            pair.active, pair.standby = standby, cut_off

        expected = await burst(crowd, room, ballot.event_id, ACTIONS_EACH, [(KILL_AFTER, cut_the_active_one)], seed=5)
        await answer_to(alice, room, bot_id, "status", await alice.send_text(room, "!status #1"), timeout=60)
        cut.heal()  # the one cut off comes back, and stands by (and this test may connect again)
        await until(lambda: pair.said(pair.standby, "standing by: "), timeout=90, what="it to stand by again")
        assert pair.standby.process.poll() is None
        recorded = {row["member"]: row["position"] for row in await rows(
            pair.url, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
        assert recorded == {member: e.position_at() for member, e in expected.items() if e.position_at() is not None}
        said = said_once(alice, room, bot_id)
        assert said and max(said.values()) == 1, [key for key, times in said.items() if times > 1]
        print(f"takeover after the network was cut: {pair.takeovers[0]:.1f} s")
        assert pair.takeovers[0] < TAKEOVER_WITHIN
    finally:
        if cut is not None:
            cut.heal()
        pair.stop()
        await asyncio.to_thread(server.stop)
