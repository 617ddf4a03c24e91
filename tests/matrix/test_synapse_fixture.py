"""The integration-test infrastructure itself, against the real session Synapse."""

from __future__ import annotations

import asyncio
import http.client
import socket

import pytest
import pytest_asyncio

from nio import (AsyncClient, LoginResponse, PowerLevelsEvent, ReactionEvent, RedactionEvent,
                 RoomMemberEvent, RoomMessageText, WhoamiResponse)

from .member import Member, MatrixRequestError, content, relates_to
from .synapse import Synapse, SynapseError


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_loop():
    return asyncio.get_running_loop()


async def test_tests_run_in_the_session_loop(session_loop):
    """conftest's collection hook puts every async test of tests/matrix in the session loop."""
    assert asyncio.get_running_loop() is session_loop


async def shared_room(owner: Member, *others: Member) -> str:
    """A fresh room created by owner, joined by the others; returns once owner has seen every join."""
    room = await owner.create_room(invite=[m.user_id for m in others], name="assembly")
    for other in others:
        await other.join(room)
    for other in others:
        await owner.wait_for(lambda e, uid=other.user_id: isinstance(e, RoomMemberEvent)
                             and e.state_key == uid and e.membership == "join", room=room)
    return room


async def whoami(account) -> str:
    client = AsyncClient(account.homeserver)
    client.restore_login(account.user_id, account.device_id, account.access_token)
    try:
        response = await client.whoami()
        assert isinstance(response, WhoamiResponse), response
        return response.user_id
    finally:
        await client.close()


async def test_two_members_exchange_a_message(members):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)

    sent = await alice.send_text(room, "hello, assembly")
    seen = await bob.wait_for(lambda e: e.event_id == sent)

    assert isinstance(seen, RoomMessageText)
    assert (seen.sender, seen.body) == (alice.user_id, "hello, assembly")
    assert bob.room_of[sent] == room
    answer = await bob.send_text(room, "hello, alice")
    assert (await alice.wait_for_event(answer)).body == "hello, alice"
    assert alice.limited_syncs == bob.limited_syncs == 0


async def test_reaction_then_its_redaction(members):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)
    proposal = await alice.send_text(room, "I propose we meet on Tuesdays")

    reaction = await bob.react(room, proposal, "👍")
    seen = await alice.wait_for(lambda e: e.event_id == reaction)
    assert isinstance(seen, ReactionEvent)
    assert (seen.sender, seen.reacts_to, seen.key) == (bob.user_id, proposal, "👍")

    redaction = await bob.redact(room, reaction, reason="changed my mind")
    seen = await alice.wait_for(lambda e: e.event_id == redaction)
    assert isinstance(seen, RedactionEvent)
    assert (seen.sender, seen.redacts, seen.reason) == (bob.user_id, reaction, "changed my mind")
    # The order of the timeline is the order of the recorded events.
    ids = [e.event_id for e in alice.events]
    assert ids.index(proposal) < ids.index(reaction) < ids.index(redaction)


async def test_duplicate_reaction_is_refused_by_the_server(members):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)
    proposal = await alice.send_text(room, "proposal")
    await bob.react(room, proposal, "👍")
    try:
        await bob.react(room, proposal, "👍")
    except MatrixRequestError as error:
        assert (error.http_status, error.errcode) == (400, "M_DUPLICATE_ANNOTATION")
    else:
        raise AssertionError("a duplicate annotation was accepted")


async def test_reply_thread_and_edit_carry_their_relations(members):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)
    root = await alice.send_text(room, "proposal: a shared garden")

    reply = await bob.send_text(room, "!block too expensive", reply_to=root)
    in_thread = await bob.send_text(room, "the water bill worries me", thread_root=root)
    reply_in_thread = await alice.send_text(room, "we have a well", reply_to=in_thread, thread_root=root)
    edit = await alice.edit(room, root, "proposal: a shared vegetable garden")

    seen = {i: await alice.wait_for_event(i) for i in (reply, in_thread)} | \
           {i: await bob.wait_for_event(i) for i in (reply_in_thread, edit)}
    assert relates_to(seen[reply]) == {"m.in_reply_to": {"event_id": root}}
    assert relates_to(seen[in_thread]) == {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                                           "m.in_reply_to": {"event_id": root}}
    assert relates_to(seen[reply_in_thread]) == {"rel_type": "m.thread", "event_id": root,
                                                 "is_falling_back": False,
                                                 "m.in_reply_to": {"event_id": in_thread}}
    assert relates_to(seen[edit]) == {"rel_type": "m.replace", "event_id": root}
    assert content(seen[edit])["m.new_content"] == {"msgtype": "m.text", "body": "proposal: a shared vegetable garden"}
    assert isinstance(seen[edit], RoomMessageText) and seen[edit].body == "* proposal: a shared vegetable garden"


async def test_power_level_change_is_seen(members):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)
    change = await alice.set_power_level(room, bob.user_id, 50)
    seen = await bob.wait_for_event(change)
    assert isinstance(seen, PowerLevelsEvent)
    assert seen.power_levels.get_user_level(bob.user_id) == 50
    assert (await bob.power_levels(room))["users"][bob.user_id] == 50


async def test_burst_is_recorded_without_gaps(members):
    """60 concurrent reactions from two members: all recorded, no sync timeline cut."""
    alice, bob, carol = await members("alice", "bob", "carol")
    room = await shared_room(alice, bob, carol)
    target = await alice.send_text(room, "react to me")
    keys = [f"k{i}" for i in range(30)]
    await asyncio.gather(*(m.react(room, target, k) for m in (bob, carol) for k in keys))

    reactions = await alice.wait_for_count(lambda e: isinstance(e, ReactionEvent) and e.reacts_to == target, 60)
    assert {(r.sender, r.key) for r in reactions} == {(m.user_id, k) for m in (bob, carol) for k in keys}
    assert alice.limited_syncs == 0


async def test_first_sync_skips_history(synapse, members):
    (alice,) = await members("alice")
    room = await alice.create_room()
    old = await alice.send_text(room, "before the second device")
    await alice.wait_for_event(old)

    # Same account and device, a client that starts later (as a restarted bot would). See the
    # response-cache pitfall in member.py: without a unique first-sync filter this replays history.
    late = await Member(alice.account).start()
    try:
        new = await alice.send_text(room, "after")
        await late.wait_for_event(new)
        assert old not in late.by_id
    finally:
        await late.close()


async def test_registration_gives_distinct_users(synapse, bot_account):
    accounts = await asyncio.gather(*(synapse.register(Synapse.unique_localpart("voter")) for _ in range(5)))
    accounts.append(bot_account)
    assert len({a.user_id for a in accounts}) == len({a.access_token for a in accounts}) == 6
    assert len({a.device_id for a in accounts}) == 6
    assert all(a.user_id.endswith(":localhost") for a in accounts)
    assert [await whoami(a) for a in accounts] == [a.user_id for a in accounts]

    taken = bot_account.user_id[1:].split(":")[0]
    try:
        await synapse.register(taken)
    except RuntimeError as error:
        assert "400" in str(error)
    else:
        raise AssertionError("the same localpart was registered twice")


async def test_restart_keeps_users_and_rooms(synapse, members, bot_account):
    alice, bob = await members("alice", "bob")
    room = await shared_room(alice, bob)
    before = await alice.send_text(room, "before the outage")
    await bob.wait_for_event(before)
    restarts = sum(kind == "restart" for kind, _ in synapse.start_times)

    seconds = await synapse.arestart()   # members keep syncing (and retrying) meanwhile

    assert 0 < seconds < 60 and synapse.started_in == seconds
    assert sum(kind == "restart" for kind, _ in synapse.start_times) == restarts + 1
    connection = http.client.HTTPConnection("127.0.0.1", synapse.port, timeout=5)
    connection.request("GET", "/_matrix/client/versions")
    assert connection.getresponse().status == 200
    connection.close()
    # Tokens and users survive; password login works too.
    assert await whoami(bot_account) == bot_account.user_id
    client = AsyncClient(synapse.url, bot_account.user_id)
    try:
        assert isinstance(await client.login(bot_account.password), LoginResponse)
    finally:
        await client.close()
    # The sync loops resume by themselves and the room is still there.
    after = await alice.send_text(room, "after the outage")
    assert (await bob.wait_for_event(after, timeout=15)).body == "after the outage"
    assert bob.failure is None


def test_start_failure_is_reported_fast_with_the_log(tmp_path):
    """A port held by a silent listener: Synapse dies on bind; start() says so with its log tail."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        server = Synapse(tmp_path, port=holder.getsockname()[1])
        with pytest.raises(SynapseError, match="exited with code") as failure:
            server.start()
    assert "Address already in use" in str(failure.value) or "CannotListenError" in str(failure.value)
    assert not server.running
