"""An independent check of the fake: the maintained client library, generated from the official spec,
talks to it as it would to a real server (its requests validated, its parsing of our answers exercised)."""

from __future__ import annotations

from mattermostautodriver import AsyncTypedDriver


async def test_the_official_spec_client_library_works_against_the_fake(mattermost):
    team = mattermost.create_team("assembly")
    alice = mattermost.create_user("alice")
    bob = mattermost.create_user("bob")
    channel = mattermost.create_channel(team, "town-square", creator=alice)
    mattermost.add_member(channel, bob)
    driver = AsyncTypedDriver({"url": mattermost.host, "port": mattermost.port, "scheme": "http",
                               "token": alice.token})
    try:
        await driver.login()
        me = await driver.users.get_user("me")
        assert me["id"] == alice.id
        members = await driver.channels.get_channel_members(channel.id)
        assert {m["user_id"] for m in members} == {alice.id, bob.id}
        post = await driver.posts.create_post(channel_id=channel.id, message="!propose Kettle",
                                              props={"consent_bot": {"kind": "status"}})
        assert post["message"] == "!propose Kettle" and post["props"]["consent_bot"] == {"kind": "status"}
        assert await driver.reactions.get_reactions(post["id"]) is None   # the real server's null
        await driver.reactions.save_reaction({"user_id": alice.id, "post_id": post["id"], "emoji_name": "+1"})
        [reaction] = await driver.reactions.get_reactions(post["id"])
        assert reaction["emoji_name"] == "+1"
        listing = await driver.posts.get_posts_for_channel(channel.id, since=post["create_at"] - 1)
        assert post["id"] in listing["order"]
    finally:
        await driver.close()
    assert mattermost.requests and not mattermost.violations
