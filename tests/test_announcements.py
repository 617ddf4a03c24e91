"""Announced beyond the room: a whole cycle — a referral, a block, a postponement, a second round, an adoption, a
fact and a statement — mailed to the list through a real SMTP server, in one thread, and POSTed to a real HTTP
receiver, signed; a server down, refusing, or gone for good; the console showing what would be mailed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import timedelta

import pytest
import yaml

from bot.app.announcer import Announcer
from bot.app.observer import Observer
from bot.app.ports import ReactionVote
from bot.channels import Channels
from bot.config import Config, load_config
from bot.engine.model import Position
from bot.messages.outgoing import Kind
from tests.conftest import ROOM, TUESDAY, Assembly, Clock, make_assembly, write_config
from tests.servers.announcements import HttpReceiver, SmtpServer, stopped

SECRET = "webhook-s3cret"
MAYOR = {"id": "martine", "name": "Martine Dupont", "role": "mayor", "mandate_start": "2026-03-22",
         "accounts": ["martine"]}
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


@pytest.fixture
async def smtp():
    server = SmtpServer().start()
    yield server
    await stopped(server)


@pytest.fixture
async def receiver():
    server = await HttpReceiver().start()
    yield server
    await server.stop()


def announcing_config(tmp_path, smtp: SmtpServer, receiver: HttpReceiver, **email) -> Config:
    return write_config(
        tmp_path, language="en", facilitators=["fay"], officials=[MAYOR], name="Assemblée des communs",
        email={"lists": ["assembly@lists.example.org"], "sender": "Assemblée <bot@assembly.example.org>",
               "host": "127.0.0.1", "port": smtp.port, "security": "none", **email},
        webhooks=[{"name": "wiki", "url": receiver.url, "secret": SECRET},
                  {"name": "outcomes", "url": receiver.url, "secret": SECRET, "events": ["outcome"]}])


class Tally(Observer):
    """What the announcer told the operator's metrics: (channel, result) → count."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def announced(self, channel: str, result: str) -> None:
        self.counts[channel, result] += 1


async def with_announcer(config: Config, repository) -> tuple[Assembly, Announcer]:
    room = await make_assembly(config, Clock(TUESDAY), repository)
    room.room.names.update({"alice", "bob", "carol", "fay", "martine"})
    announcer = Announcer(repository, config, room.clock, Channels(config))
    room.service.announcer = announcer
    room.service.watch(Tally())
    return room, announcer


def verified(call, secret: str = SECRET) -> dict:
    """The call's body, once its signature checks: HMAC-SHA256 of "<t>.<body>" with the webhook's secret."""
    fields = dict(part.split("=", 1) for part in call.headers["X-Consent-Bot-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + call.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    return json.loads(call.body)


async def test_a_whole_cycle_is_mailed_in_one_thread_and_posted_signed(tmp_path, repository, smtp, receiver):
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver), repository)
    [ballot, _] = await room.say("martine", f"!refer Close the street\nOn Sundays. {HOSTILE}")
    await room.say("bob", "!block #1 The market needs the street on Sundays, it would close.")
    deadline = TUESDAY + timedelta(days=3)
    await room.advance_to(deadline + timedelta(minutes=1))  # postponed
    room.clock.now = TUESDAY + timedelta(days=7)
    await room.say("martine", "!round #1 On Sundays, but not on market days.")
    await room.advance_to(TUESDAY + timedelta(days=10, minutes=1))  # adopted
    await room.say("alice", "!fact #1 martine signed the order source: https://example.org/117")
    await room.say("martine", "!statement #1 Closed since Sunday.")
    await announcer.deliver()

    subjects = [mail["Subject"] for mail in smtp.mails]
    assert subjects == ["[Assemblée des communs] #1 proposed: Close the street",
                        "[Assemblée des communs] #1 postponed: Close the street",
                        "[Assemblée des communs] #1, round 2: Close the street",
                        "[Assemblée des communs] #1 adopted: Close the street",
                        "[Assemblée des communs] #1, a fact recorded: Close the street",
                        "[Assemblée des communs] #1, an official's statement: Close the street"]
    first, *rest = smtp.mails
    assert first["In-Reply-To"] is None and all(m["In-Reply-To"] == first["Message-ID"] == m["References"]
                                                for m in rest)
    assert len({m["Message-ID"] for m in smtp.mails}) == 6 and first["Message-ID"].endswith("@assembly.example.org>")
    assert all(m["Auto-Submitted"] == "auto-generated" and m["Date"] and m["From"] == "Assemblée <bot@assembly.example.org>"
               for m in smtp.mails)
    assert smtp.recipients[0] == ["assembly@lists.example.org"]
    text, html = (first.get_body(("plain",)).get_content(), first.get_body(("html",)).get_content())
    assert HOSTILE in text and "Deadline:" in text and "Referred to the assembly by Martine Dupont (mayor)" in text
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in html

    bodies = [verified(call) for call in receiver.calls]
    assert [(b["event"], call.headers["X-Consent-Bot-Event"]) for b, call in zip(bodies, receiver.calls)] == [
        ("proposal", "proposal"), ("outcome", "outcome"), ("outcome", "outcome"), ("round", "round"),
        ("outcome", "outcome"), ("outcome", "outcome"), ("fact", "fact"), ("statement", "statement")]
    assert [b["proposal"]["state"] for b in bodies if b["event"] == "outcome"] == ["postponed"] * 2 + ["adopted"] * 2
    assert bodies[0]["proposal"]["title"] == "Close the street" and bodies[0]["proposal"]["referral"]["official"] == \
        "martine"
    assert len({b["delivery"] for b in bodies}) == 8
    assert all(call.headers["X-Consent-Bot-Delivery"] == b["delivery"] for b, call in zip(bodies, receiver.calls))
    await announcer.deliver()
    assert len(smtp.mails) == 6 and len(receiver.calls) == 8  # each once


async def test_a_server_down_or_refusing_for_now_gets_the_mail_once_it_is_back(tmp_path, repository, smtp, receiver):
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver), repository)
    await stopped(smtp)
    receiver.status = 503
    await room.say("alice", "!propose Buy a kettle")
    await room.advance_to(TUESDAY + timedelta(days=3, minutes=1))  # the outcome, while both are down
    assert await announcer.deliver() == timedelta(seconds=1)  # tried once each channel, again in a second
    assert smtp.mails == [] and len(receiver.calls) == 2  # the webhook refused the first call; the rest wait
    room.clock.now += timedelta(seconds=30)  # back 30 s later
    smtp.start()
    receiver.status = 200
    assert await announcer.deliver() is None
    assert [m["Subject"].split("#1 ")[1] for m in smtp.mails] == ["proposed: Buy a kettle", "adopted: Buy a kettle"]
    assert await announcer.deliver() is None and len(smtp.mails) == 2  # once
    assert [verified(c)["event"] for c in receiver.calls] == ["proposal", "outcome", "proposal", "outcome", "outcome"]
    delivery = [c.headers["X-Consent-Bot-Delivery"] for c in receiver.calls]
    assert delivery[0] == delivery[2] and delivery[1] == delivery[4]  # a call tried again is the same delivery


async def test_a_mail_refused_for_good_or_still_refused_after_give_up_after_is_set_aside(tmp_path, repository, smtp,
                                                                                         receiver, caplog):
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver, give_up_after="1h"),
                                           repository)
    smtp.refuse = "550 5.1.1 no such list"
    await room.say("alice", "!propose Buy a kettle")
    await announcer.deliver()
    assert announcer.observer.counts == {("email", "given_up"): 1, ("webhook", "sent"): 1}
    assert "cannot be delivered (550 5.1.1 no such list)" in caplog.text
    smtp.refuse = "451 4.3.0 try again later"
    await room.say("alice", "!propose Buy a toaster")
    await announcer.deliver()
    room.clock.now += timedelta(minutes=59)
    await announcer.deliver()
    assert announcer.observer.counts["email", "given_up"] == 1 and announcer.observer.counts["email", "retried"] == 2
    room.clock.now += timedelta(minutes=2)
    assert await announcer.deliver() is None and "given up after" in caplog.text
    assert announcer.observer.counts["email", "given_up"] == 2
    rows = await repository.pending_announcements()
    assert rows == [] and smtp.mails == []


async def test_a_process_that_may_not_act_sends_nothing_until_it_acts(tmp_path, repository, smtp, receiver):
    # On PostgreSQL a standby, or a process whose lease was just taken over, must not mail what the other one mails.
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver), repository)
    acting = False
    announcer.acting = lambda: acting
    await room.say("alice", "!propose Buy a kettle")
    assert await announcer.deliver() == timedelta(seconds=1)  # looks again in a second
    assert smtp.mails == [] and receiver.calls == [] and not announcer.observer.counts
    acting = True
    assert await announcer.deliver() is None
    assert len(smtp.mails) == 1 and len(receiver.calls) == 1
    assert announcer.observer.counts == {("email", "sent"): 1, ("webhook", "sent"): 1}


async def test_a_reaction_on_the_ballot_counts_once_its_mail_and_webhook_calls_are_queued_after_it(
        tmp_path, repository, smtp, receiver):
    # They are ballots too in the outbox, and later ones: the chat's ballot must stay the current one.
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver), repository)
    await room.say("alice", "!propose Buy a kettle")
    await announcer.deliver()
    ballot = await repository.ballot_id(ROOM, 1)
    await room.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$r1", room.clock.now))
    [status] = await room.say("carol", "!status")
    assert status.payload["tally"]["agree"] == 1


async def test_a_mail_server_gets_at_most_per_minute_mails_a_minute(tmp_path, repository, smtp, receiver):
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver, per_minute=2), repository)
    for title in ("one", "two", "three"):
        await room.say("alice", f"!propose {title}")
    assert await announcer.deliver() == timedelta(seconds=1)
    assert len(smtp.mails) == 2
    room.clock.now += timedelta(seconds=61)
    await announcer.deliver()
    assert [m["Subject"].rsplit(" ", 1)[1] for m in smtp.mails] == ["one", "two", "three"]


async def test_what_is_announced_and_what_is_not(tmp_path, repository, smtp, receiver):
    room, announcer = await with_announcer(announcing_config(tmp_path, smtp, receiver), repository)
    answers = await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!agree #1")
    await room.say("bob", "!status #1")
    await room.say("bob", "!nonsense")
    await announcer.deliver()
    assert [a.kind for a in answers] == [Kind.BALLOT, Kind.SEED]
    assert len(smtp.mails) == 1 and [verified(c)["event"] for c in receiver.calls] == ["proposal"]


async def test_a_joint_decision_is_announced_once_by_its_network_s_list_and_webhooks(tmp_path, repository, smtp,
                                                                                      receiver):
    # Said in each of its rooms, a joint decision is mailed and posted once, by the network's list (which sends
    # through the assembly's server), never once per room.
    fives = "!fives:test"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"path": "consent.db"},
        "assembly": {"language": "en", "email": {"lists": ["assembly@lists.example.org"], "host": "127.0.0.1",
                                                 "port": smtp.port, "security": "none",
                                                 "sender": "Bot <bot@assembly.example.org>"}},
        "rooms": {fives: {"language": "fr", "name": "Fives"}},
        "networks": [{"id": "metropole", "name": "Métropole", "rooms": [ROOM, fives],
                      "email": {"lists": ["metropole@lists.example.org"]},
                      "webhooks": [{"name": "wiki", "url": receiver.url, "secret": SECRET}]}]}), encoding="utf-8")
    room, announcer = await with_announcer(load_config(path, environ={}), repository)
    room.room.other_rooms[fives] = {"dan"}
    await room.say("dan", "!joint Shared budget", room=fives)
    await room.say("alice", "!agree #metropole-1")
    await room.advance_to(TUESDAY + timedelta(days=4))
    await announcer.deliver()
    assert [mail["Subject"] for mail in smtp.mails] == ["[Métropole] #metropole-1 proposed: Shared budget",
                                                        "[Métropole] #metropole-1 adopted: Shared budget"]
    assert smtp.recipients == [["metropole@lists.example.org"]] * 2
    assert smtp.mails[1]["In-Reply-To"] == smtp.mails[0]["Message-ID"]
    bodies = [verified(call) for call in receiver.calls]
    assert [(b["event"], b["assembly"]["room"], b["assembly"]["name"], b["proposal"]["network"]) for b in bodies] == [
        ("proposal", "network:metropole", "Métropole", "metropole"),
        ("outcome", "network:metropole", "Métropole", "metropole")]
    # The room's own proposals keep the assembly's list.
    await room.say("alice", "!propose A kettle")
    await announcer.deliver()
    assert smtp.recipients[-1] == ["assembly@lists.example.org"] and len(receiver.calls) == 2


async def test_a_process_sends_the_announcements_of_its_platform_s_rooms_only(tmp_path, repository, smtp, receiver):
    # A Matrix and a Mattermost process on one database read one outbox: each sends its own rooms' mails, lest both
    # send them (or one, without the other's mail server, set them aside).
    config = announcing_config(tmp_path, smtp, receiver)
    room, announcer = await with_announcer(config, repository)
    await room.say("alice", "!propose A kettle")
    announcer.serves = lambda served: served != ROOM
    await announcer.deliver()
    assert smtp.mails == [] and receiver.calls == []
    served_here = Announcer(repository, config, room.clock, Channels(config))
    await served_here.deliver()
    assert [mail["Subject"] for mail in smtp.mails] == ["[Assemblée des communs] #1 proposed: A kettle"]
