"""Tests of the fake Mattermost itself, driven by plain aiohttp clients (no bot code involved)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType

from .fake import FakeMattermost, User, load_contract

API = "/api/v4"

needs_contract = pytest.mark.skipif(not load_contract().active,
                                    reason=f"contract checks skipped: {load_contract().skipped_because}")


@dataclass
class World:
    mm: FakeMattermost
    team: object
    channel: object
    bot: User
    alice: User
    bob: User
    carol: User  # in the team, not in the channel


@pytest.fixture
def world(mattermost: FakeMattermost) -> World:
    mm = mattermost
    team = mm.create_team("assembly", "Citizen assembly")
    alice = mm.create_user("alice")
    bot = mm.create_bot("consentbot", bot_description="Runs consent decisions")
    bob = mm.create_user("bob")
    carol = mm.create_user("carol")
    channel = mm.create_channel(team, "plenary", display_name="Plenary", creator=alice)
    mm.add_member(channel, bot)
    mm.add_member(channel, bob)
    mm.add_to_team(team, carol)
    return World(mm, team, channel, bot, alice, bob, carol)


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def auth(user: User) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


async def frame(ws: aiohttp.ClientWebSocketResponse) -> str:
    message = await ws.receive(timeout=2)
    assert message.type == WSMsgType.TEXT, message
    return message.data


async def connect(http: aiohttp.ClientSession, mm: FakeMattermost, user: User) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(mm.ws_url, headers=auth(user))
    hello = json.loads(await frame(ws))
    assert hello["event"] == "hello" and hello["seq"] == 0
    return ws


# ------------------------------------------------------------------------------------------------ REST contract


async def test_a_valid_request_passes_and_is_answered_as_the_server_does(world: World, http):
    mm = world.mm
    async with http.get(mm.url + f"{API}/users/me", headers=auth(world.bot)) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"  # exactly, no charset
        assert response.headers["X-Version-Id"]
        me = await response.json()
    assert me["id"] == world.bot.id and me["username"] == "consentbot" and me["is_bot"] is True
    assert mm.violations == []
    assert [(r.method, r.path, r.status, r.user_id) for r in mm.requests] == [
        ("GET", f"{API}/users/me", 200, world.bot.id)]


async def test_a_bad_token_gets_the_servers_401(world: World, http):
    mm = world.mm
    async with http.get(mm.url + f"{API}/users/me", headers={"Authorization": "Bearer nope"}) as response:
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"
        error = await response.json()
    assert error["id"] == "api.context.session_expired.app_error"
    assert error["status_code"] == 401 and error["request_id"] and "detailed_error" in error
    assert mm.violations == []  # a bearer token was sent: the request itself is well formed


@needs_contract
async def test_a_post_without_channel_id_is_recorded_as_a_violation(world: World, http):
    mm = world.mm
    async with http.post(mm.url + f"{API}/posts", json={"message": "hi"}, headers=auth(world.bot)) as response:
        assert response.status == 400
    assert len(mm.violations) == 1
    violation = mm.violations[0]
    assert (violation.method, violation.path) == ("POST", f"{API}/posts")
    assert "'channel_id' is a required property" in violation.message
    assert mm.requests[-1].violation == violation.message
    assert mm.posts_in(world.channel) == []
    mm.clear_violations()  # detected as intended; do not fail this test at teardown


@needs_contract
async def test_a_wrongly_typed_field_and_a_missing_token_are_violations(world: World, http):
    mm = world.mm
    body = {"channel_id": world.channel.id, "message": 5}
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        assert response.status == 400
    async with http.get(mm.url + f"{API}/channels/{world.channel.id}/posts", params={"since": "yesterday"},
                        headers=auth(world.bot)) as response:
        assert response.status == 400
    async with http.get(mm.url + f"{API}/users/me") as response:
        assert response.status == 401
    messages = [v.message for v in mm.violations]
    assert len(messages) == 3
    assert "5 is not of type 'string'" in messages[0]
    assert "since" in messages[1]
    assert "Security" in messages[2]
    mm.clear_violations()


@needs_contract
async def test_unknown_paths_and_unimplemented_operations_are_reported(world: World, http):
    mm = world.mm
    async with http.get(mm.url + f"{API}/no/such/thing", headers=auth(world.bot)) as response:
        assert response.status == 404
        assert (await response.json())["id"] == "api.context.404.app_error"
    async with http.get(mm.url + f"{API}/emoji", headers=auth(world.bot)) as response:  # in the spec, not faked
        assert response.status == 501
    assert "PathNotFound" in mm.violations[0].message
    assert mm.unimplemented == [f"GET {API}/emoji"]
    assert len(mm.problems()) == 2
    mm.clear_violations()
    mm.unimplemented.clear()


@needs_contract
async def test_patch_props_as_an_object_is_valid_as_the_server_expects(world: World, http):
    mm = world.mm
    post = mm.post(world.bot, world.channel, "proposal")
    async with http.put(mm.url + f"{API}/posts/{post['id']}/patch", json={"props": {"poll": "open"}},
                        headers=auth(world.bot)) as response:
        assert response.status == 200
        patched = await response.json()
    assert patched["props"] == {"from_bot": "true", "poll": "open"}
    assert mm.violations == []
    assert any("props" in tweak for tweak in mm.contract.tweaks)


# ------------------------------------------------------------------------------------------------ REST behaviour


async def test_pending_post_id_deduplicates_like_the_server(world: World, http):
    mm = world.mm
    ws = await connect(http, mm, world.alice)
    body = {"channel_id": world.channel.id, "message": "proposal", "pending_post_id": f"{world.bot.id}:1"}
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        assert response.status == 201
        first = await response.json()
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        assert response.status == 201
        second = await response.json()
    assert first["id"] == second["id"]
    assert first["pending_post_id"] == f"{world.bot.id}:1"
    assert second["pending_post_id"] == ""  # the duplicate answer is the stored post
    assert first["props"] == {"from_bot": "true"}
    assert len(mm.posts_in(world.channel)) == 1
    posted = json.loads(await frame(ws))
    assert posted["event"] == "posted" and json.loads(posted["data"]["post"])["id"] == first["id"]
    mm.expire_pending_post_ids()
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        third = await response.json()
    assert third["id"] != first["id"]
    assert json.loads((json.loads(await frame(ws)))["data"]["post"])["id"] == third["id"]  # no event in between
    await ws.close()


async def test_the_de_duplication_window_follows_the_fakes_clock():
    now = [1_900_000_000_000]
    async with FakeMattermost(load_contract(), clock=lambda: now[0]) as mm:
        alice = mm.create_user("alice")
        channel = mm.create_channel(mm.create_team("t"), "c", creator=alice)
        first = mm.post(alice, channel, "once", pending_post_id="p1")
        now[0] += 29_000
        assert mm.post(alice, channel, "once", pending_post_id="p1")["id"] == first["id"]
        now[0] += 2_000  # 31 s after the first attempt: the server has forgotten the pending_post_id
        assert mm.post(alice, channel, "once", pending_post_id="p1")["id"] != first["id"]
        assert 0 <= first["create_at"] - 1_900_000_000_000 < 10  # the clock drives timestamps too
        assert mm.problems() == []


async def test_threads_channel_history_and_since(world: World, http):
    mm = world.mm
    root = mm.post(world.alice, world.channel, "root")
    reply = mm.post(world.bob, world.channel, "reply", root_id=root["id"])
    later = mm.post(world.alice, world.channel, "later")
    async with http.get(mm.url + f"{API}/posts/{reply['id']}/thread", headers=auth(world.bot)) as response:
        thread = await response.json()
    assert thread["order"] == [reply["id"], root["id"]]
    assert set(thread["posts"]) == {root["id"], reply["id"]}
    assert thread["posts"][root["id"]]["reply_count"] == 1
    async with http.get(mm.url + f"{API}/channels/{world.channel.id}/posts", params={"since": str(reply["create_at"])},
                        headers=auth(world.bot)) as response:
        since = await response.json()
    assert since["order"] == [later["id"]]
    async with http.get(mm.url + f"{API}/channels/{world.channel.id}/posts", params={"per_page": "2"},
                        headers=auth(world.bot)) as response:
        page = await response.json()
    assert page["order"] == [later["id"], reply["id"]] and page["has_next"] is True
    assert root["id"] in page["posts"]  # the thread of a reply comes along
    bad_root = {"channel_id": world.channel.id, "message": "x", "root_id": reply["id"]}
    async with http.post(mm.url + f"{API}/posts", json=bad_root, headers=auth(world.bot)) as response:
        assert response.status == 400
        assert (await response.json())["id"] == "api.post.create_post.root_id.app_error"


async def test_channel_members_roles_and_paging(world: World, http):
    mm = world.mm
    base = mm.url + f"{API}/channels/{world.channel.id}/members"
    async with http.get(f"{base}/{world.alice.id}", headers=auth(world.bot)) as response:
        creator = await response.json()
    assert creator["roles"] == "channel_user channel_admin" and creator["scheme_admin"] is True
    async with http.get(f"{base}/me", headers=auth(world.bot)) as response:
        member = await response.json()
    assert member["roles"] == "channel_user" and member["scheme_admin"] is False
    async with http.get(f"{base}/{world.carol.id}", headers=auth(world.bot)) as response:
        assert response.status == 404
    pages = []
    for page in range(3):
        async with http.get(base, params={"page": str(page), "per_page": "2"}, headers=auth(world.bot)) as response:
            pages.append([m["user_id"] for m in await response.json()])
    assert [len(p) for p in pages] == [2, 1, 0]
    assert set(pages[0] + pages[1]) == {world.alice.id, world.bob.id, world.bot.id}
    async with http.get(mm.url + f"{API}/users/me/teams/{world.team.id}/channels", headers=auth(world.bot)) as response:
        assert [c["id"] for c in await response.json()] == [world.channel.id]
    async with http.post(mm.url + f"{API}/posts", json={"channel_id": world.channel.id, "message": "x"},
                         headers=auth(world.carol)) as response:
        assert response.status == 403  # not a member


async def test_reactions_over_rest(world: World, http):
    mm = world.mm
    post = mm.post(world.alice, world.channel, "proposal")
    url = mm.url + f"{API}/posts/{post['id']}/reactions"
    async with http.get(url, headers=auth(world.bot)) as response:
        assert response.status == 200
        assert await response.text() == "null"  # a post without reactions: null, not []
    body = {"user_id": world.bot.id, "post_id": post["id"], "emoji_name": "+1"}
    async with http.post(mm.url + f"{API}/reactions", json=body, headers=auth(world.bot)) as response:
        assert response.status == 200  # the spec says 201
        saved = await response.json()
    assert saved["emoji_name"] == "+1" and saved["channel_id"] == world.channel.id
    async with http.get(url, headers=auth(world.bot)) as response:
        assert [r["user_id"] for r in await response.json()] == [world.bot.id]
    other = {"user_id": world.alice.id, "post_id": post["id"], "emoji_name": "+1"}
    async with http.post(mm.url + f"{API}/reactions", json=other, headers=auth(world.bot)) as response:
        assert response.status == 403
    unknown = {"user_id": world.bot.id, "post_id": post["id"], "emoji_name": "no_such_emoji_here"}
    async with http.post(mm.url + f"{API}/reactions", json=unknown, headers=auth(world.bot)) as response:
        assert response.status == 404
    ghost = {"user_id": world.bot.id, "post_id": "x" * 26, "emoji_name": "+1"}
    async with http.post(mm.url + f"{API}/reactions", json=ghost, headers=auth(world.bot)) as response:
        assert response.status == 403  # permission is checked by post first
    async with http.delete(mm.url + f"{API}/users/me/posts/{post['id']}/reactions/+1",
                           headers=auth(world.bot)) as response:
        assert response.status == 200
        assert await response.json() == {"status": "OK"}
    async with http.get(url, headers=auth(world.bot)) as response:
        assert await response.text() == "null"


async def test_injected_429_is_plain_text_with_retry_after(world: World, http):
    mm = world.mm
    mm.inject_429(2, retry_after=3)
    for _ in range(2):
        async with http.get(mm.url + f"{API}/users/me", headers=auth(world.bot)) as response:
            assert response.status == 429
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert response.headers["Retry-After"] == "3"
            assert response.headers["X-Ratelimit-Remaining"] == "0"
            assert await response.text() == "limit exceeded\n"
    async with http.get(mm.url + f"{API}/users/me", headers=auth(world.bot)) as response:
        assert response.status == 200
    assert [r.status for r in mm.requests] == [429, 429, 200]


# ------------------------------------------------------------------------------------------------------ websocket


async def test_hello_then_posted_with_the_post_as_a_json_string(world: World, http):
    mm = world.mm
    ws = await http.ws_connect(mm.ws_url, headers=auth(world.bot))
    raw_hello = await frame(ws)
    assert raw_hello.endswith("\n") and '": ' not in raw_hello  # written by json.Encoder
    hello = json.loads(raw_hello)
    assert hello["seq"] == 0 and hello["broadcast"]["user_id"] == world.bot.id
    assert set(hello["data"]) == {"connection_id", "server_hostname", "server_version"}
    posted = mm.post(world.alice, world.channel, "Shall we <meet> on Friday & Saturday?")
    raw = await frame(ws)
    assert raw.startswith('{"event": "posted", "data": {') and raw.endswith(', "seq": 1}')  # hub broadcast
    event = json.loads(raw)
    assert event["broadcast"] == {"omit_users": None, "user_id": "", "channel_id": world.channel.id, "team_id": "",
                                  "connection_id": "", "omit_connection_id": ""}
    data = event["data"]
    assert list(data) == sorted(data)
    assert (data["channel_display_name"], data["channel_name"], data["channel_type"]) == ("Plenary", "plenary", "O")
    assert (data["sender_name"], data["set_online"], data["team_id"]) == ("@alice", True, world.team.id)
    assert isinstance(data["post"], str) and "\\u003cmeet\\u003e" in data["post"]  # Go's HTML escaping
    post = json.loads(data["post"])
    assert post["id"] == posted["id"] and post["message"] == "Shall we <meet> on Friday & Saturday?"
    assert post["user_id"] == world.alice.id and post["root_id"] == ""
    mm.post(world.bob, world.channel, "second")
    assert json.loads(await frame(ws))["seq"] == 2
    await ws.close()


async def test_challenge_authentication_sends_hello_before_the_ok_reply(world: World, http):
    mm = world.mm
    ws = await http.ws_connect(mm.ws_url)
    await ws.send_str(json.dumps({"seq": 1, "action": "authentication_challenge", "data": {"token": world.bot.token}}))
    assert json.loads(await frame(ws))["event"] == "hello"
    assert await frame(ws) == '{"status":"OK","seq_reply":1}\n'
    await ws.send_str(json.dumps({"seq": 2, "action": "ping"}))
    pong = json.loads(await frame(ws))
    assert pong["status"] == "OK" and pong["seq_reply"] == 2 and pong["data"]["text"] == "pong"
    await ws.send_str(json.dumps({"seq": 3, "action": "no_such_action"}))
    failed = json.loads(await frame(ws))
    assert failed["status"] == "FAIL" and failed["error"]["id"] == "api.web_socket_router.bad_action.app_error"
    await ws.close()


async def test_a_bad_challenge_closes_the_socket_without_reply(world: World, http):
    ws = await http.ws_connect(world.mm.ws_url)
    await ws.send_str(json.dumps({"seq": 1, "action": "authentication_challenge", "data": {"token": "nope"}}))
    message = await ws.receive(timeout=2)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


async def test_an_unauthenticated_socket_is_closed_after_the_auth_timeout(world: World, http):
    world.mm.ws_auth_timeout = 0.2
    ws = await http.ws_connect(world.mm.ws_url)
    message = await ws.receive(timeout=2)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


async def test_a_mention_rewrites_the_event_for_the_mentioned_connection_only(world: World, http):
    mm = world.mm
    bot_ws = await connect(http, mm, world.bot)
    bob_ws = await connect(http, mm, world.bob)
    mm.post(world.alice, world.channel, "@consentbot propose we meet")
    raw_for_bot, raw_for_bob = await frame(bot_ws), await frame(bob_ws)
    assert raw_for_bot.endswith("\n") and '"event":"posted"' in raw_for_bot  # per-connection: json.Encoder
    assert json.loads(raw_for_bot)["data"]["mentions"] == json.dumps([world.bot.id], separators=(",", ":"))
    assert raw_for_bob.startswith('{"event": "posted"') and "mentions" not in json.loads(raw_for_bob)["data"]
    dm = mm.direct_channel(world.alice, world.bot)
    mm.post(world.alice, dm, "hello bot")
    event = json.loads(await frame(bot_ws))
    assert event["data"]["channel_type"] == "D" and event["data"]["team_id"] == ""
    assert event["data"]["channel_display_name"] == "@alice"
    assert event["data"]["mentions"] == f'["{world.bot.id}"]'
    await bot_ws.close()
    await bob_ws.close()


async def test_channel_events_reach_members_only(world: World, http):
    mm = world.mm
    carol_ws = await connect(http, mm, world.carol)
    mm.post(world.alice, world.channel, "members only")
    marker = mm.post(world.alice, mm.direct_channel(world.alice, world.carol), "hi carol")
    event = json.loads(await frame(carol_ws))
    assert event["seq"] == 1 and json.loads(event["data"]["post"])["id"] == marker["id"]
    await carol_ws.close()


async def test_reaction_and_edit_events(world: World, http):
    mm = world.mm
    ws = await connect(http, mm, world.bot)
    post = mm.post(world.alice, world.channel, "proposal")
    await frame(ws)  # posted
    mm.react(world.bob, post, "raised_hand")
    raw = await frame(ws)
    assert raw.startswith('{"event": "reaction_added"')
    added = json.loads(raw)
    assert added["broadcast"]["channel_id"] == world.channel.id and list(added["data"]) == ["reaction"]
    reaction = json.loads(added["data"]["reaction"])
    assert (reaction["user_id"], reaction["post_id"], reaction["emoji_name"]) == (world.bob.id, post["id"],
                                                                                  "raised_hand")
    mm.unreact(world.bob, post, "raised_hand")
    removed = json.loads(await frame(ws))
    assert removed["event"] == "reaction_removed"
    assert json.loads(removed["data"]["reaction"])["emoji_name"] == "raised_hand"
    mm.edit(world.alice, post, "amended proposal")
    edited = json.loads(await frame(ws))
    assert edited["event"] == "post_edited" and edited["seq"] == 4
    assert json.loads(edited["data"]["post"])["message"] == "amended proposal"
    assert json.loads(edited["data"]["post"])["edit_at"] > 0
    await ws.close()


async def test_presence_scopes_reaction_events_to_the_active_channel(world: World, http):
    mm = world.mm
    other = mm.create_channel(world.team, "elsewhere", creator=world.bot)
    ws = await connect(http, mm, world.bot)
    await ws.send_str(json.dumps({"seq": 1, "action": "presence", "data": {"channel_id": other.id}}))
    assert json.loads(await frame(ws)) == {"status": "OK", "seq_reply": 1}
    post = mm.post(world.alice, world.channel, "proposal")
    mm.react(world.alice, post, "+1")
    mm.post(world.alice, world.channel, "marker")
    assert json.loads(await frame(ws))["event"] == "posted"
    assert json.loads(json.loads(await frame(ws))["data"]["post"])["message"] == "marker"  # reaction withheld
    assert any(r.message.get("action") == "presence" for r in mm.ws_requests)
    await ws.close()


async def test_drop_websockets_closes_connections_abruptly(world: World, http):
    mm = world.mm
    ws = await http.ws_connect(mm.ws_url, headers=auth(world.bot))
    first = json.loads(await frame(ws))
    await mm.wait_for_connections(1, user=world.bot)
    assert mm.drop_websockets() == 1
    message = await ws.receive(timeout=2)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    again = await http.ws_connect(mm.ws_url, headers=auth(world.bot))
    second = json.loads(await frame(again))
    assert second["event"] == "hello" and second["seq"] == 0
    assert second["data"]["connection_id"] != first["data"]["connection_id"]
    assert mm.ws_connects == 2 and len(mm.connections) == 1
    await again.close()


# ------------------------------------------------------------------------------------------ the fixture itself


_SCRATCH_TEST = '''
import aiohttp

async def test_sends_a_malformed_post(mattermost):
    user = mattermost.create_user("someone")
    async with aiohttp.ClientSession() as session:
        async with session.post(mattermost.url + "/api/v4/posts", json={"message": "no channel"},
                                headers={"Authorization": "Bearer " + user.token}) as response:
            assert response.status in (400, 403)
'''


def _run_scratch_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(
        "from mattermost.conftest import mattermost, pytest_terminal_summary  # noqa: F401\n", encoding="utf-8")
    (tmp_path / "test_scratch.py").write_text(textwrap.dedent(_SCRATCH_TEST), encoding="utf-8")
    tests_dir = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")]),
                   **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)


@needs_contract
def test_the_fixture_fails_a_test_whose_request_breaks_the_contract(tmp_path: Path):
    result = _run_scratch_suite(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 passed, 1 error" in output
    assert "off the contract" in output and "'channel_id' is a required property" in output
    assert "Mattermost contract validation ACTIVE" in output


def test_without_the_spec_the_fake_works_and_the_output_says_validation_was_skipped(tmp_path: Path):
    result = _run_scratch_suite(tmp_path, MATTERMOST_OPENAPI_SPEC=str(tmp_path / "absent.yaml"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output
    assert "Mattermost contract validation SKIPPED" in output and "absent.yaml" in output
    assert "ContractSkippedWarning" in output


# ------------------------------------------------------------------------------- what the bot must not lose


async def test_since_lists_at_most_1000_posts_the_first_inserted_and_paging_shows_the_rest(world: World, http):
    mm = world.mm
    first = mm.post(world.alice, world.channel, "post 0")
    posts = [first] + [mm.post(world.alice, world.channel, f"post {i}") for i in range(1, 1010)]
    reply = mm.post(world.bob, world.channel, "a late reply to the first post", root_id=first)
    url = mm.url + f"{API}/channels/{world.channel.id}/posts"
    async with http.get(url, params={"since": str(first["create_at"] - 1)}, headers=auth(world.bot)) as response:
        since = await response.json()
    # No ORDER BY before the LIMIT: the first 1000 rows inserted, the oldest; the newest are missing.
    assert since["order"] == [p["id"] for p in reversed(posts[:1000])]
    assert reply["id"] not in since["posts"] and posts[-1]["id"] not in since["posts"]
    async with http.get(url, params={"page": "0", "per_page": "500"}, headers=auth(world.bot)) as response:
        newest = await response.json()
    assert newest["order"] == [reply["id"]] + [p["id"] for p in reversed(posts[-199:])]   # at most 200 a page
    assert first["id"] in newest["posts"]   # the root of a reply on the page comes along
    async with http.get(url, params={"since": str(posts[-1]["create_at"])}, headers=auth(world.bot)) as response:
        late = await response.json()
    assert late["order"] == [reply["id"], first["id"]]   # a reply bumps its root's update_at


async def test_a_post_over_16383_runes_is_refused(world: World, http):
    mm = world.mm
    for length, status in ((16383, 201), (16384, 400)):
        body = {"channel_id": world.channel.id, "message": "é" * length}   # runes, not bytes
        async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
            assert response.status == status
            answer = await response.json()
    assert answer["id"] == "model.post.is_valid.msg.app_error"
    assert len(mm.posts_in(world.channel)) == 1


async def test_a_deleted_post_is_broadcast_loses_its_reactions_and_shows_only_in_since(world: World, http):
    mm = world.mm
    ws = await connect(http, mm, world.bot)
    post = mm.post(world.alice, world.channel, "!agree")
    mm.react(world.bob, post, "+1")
    mm.delete(world.alice, post)
    assert [json.loads(await frame(ws))["event"] for _ in range(2)] == ["posted", "reaction_added"]
    deleted = json.loads(await frame(ws))
    assert deleted["event"] == "post_deleted" and list(deleted["data"]) == ["post"]
    assert deleted["broadcast"]["contains_sanitized_data"] is True   # the deleter is only in admins' copy
    assert json.loads(deleted["data"]["post"])["delete_at"] > 0
    assert mm.reactions_on(post) == []   # gone with the post, without a reaction_removed
    url = mm.url + f"{API}/channels/{world.channel.id}/posts"
    async with http.get(url, params={"since": str(post["create_at"] - 1)}, headers=auth(world.bot)) as response:
        assert (await response.json())["posts"][post["id"]]["delete_at"] > 0
    async with http.get(url, params={"page": "0", "per_page": "200"}, headers=auth(world.bot)) as response:
        assert (await response.json())["order"] == []
    await ws.close()


async def test_withheld_events_go_out_in_order_when_released(world: World, http):
    mm = world.mm
    ws = await connect(http, mm, world.bot)
    mm.withhold_events(True)
    first = mm.post(world.alice, world.channel, "first")
    mm.post(world.bob, world.channel, "second")
    assert mm.connections[0]["seq"] == 1   # nothing but hello went out
    assert mm.withhold_events(False) == 2
    assert [json.loads(json.loads(await frame(ws))["data"]["post"])["message"] for _ in range(2)] == ["first",
                                                                                                      "second"]
    assert mm.get_post(first)["message"] == "first"   # REST had them all along
    await ws.close()


async def test_injected_429_can_target_some_requests_and_be_stopped(world: World, http):
    mm = world.mm
    mm.inject_429(3, retry_after=2, only=r"POST /api/v4/posts")
    async with http.get(mm.url + f"{API}/users/me", headers=auth(world.bot)) as response:
        assert response.status == 200   # not targeted
    body = {"channel_id": world.channel.id, "message": "hello"}
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "2"
    assert mm.pending_429 == 2 and mm.stop_429() == 2
    async with http.post(mm.url + f"{API}/posts", json=body, headers=auth(world.bot)) as response:
        assert response.status == 201


async def test_a_group_message_is_a_channel_of_type_g_without_team(world: World, http):
    mm = world.mm
    ws = await connect(http, mm, world.bot)
    group = mm.group_channel(world.alice, world.bob, world.bot)
    assert mm.group_channel(world.bob, world.bot, world.alice) is group
    mm.post(world.alice, group, "!propose here?")
    data = json.loads(await frame(ws))["data"]
    assert (data["channel_type"], data["team_id"], data["channel_display_name"]) == ("G", "", "alice, bob, consentbot")
    async with http.get(mm.url + f"{API}/users/me/teams/{world.team.id}/channels", headers=auth(world.bot)) as response:
        assert {c["type"] for c in await response.json()} == {"O", "G"}   # conversations show in every team
    await ws.close()
