"""Errors that arise from workspace state, each next to a control the stand-in accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from slack_sandbox import SandboxClock, SlackSandbox


def error_of(fn: Callable[..., SlackResponse], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as err:
        fn(**kwargs)
    data = err.value.response.data
    assert isinstance(data, dict)
    return data


def code_of(fn: Callable[..., SlackResponse], **kwargs: Any) -> str:
    return str(error_of(fn, **kwargs)["error"])


# ---- channel names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Incident", "invalid_name_specials"),
        ("inc 42", "invalid_name_specials"),
        ("inc#42", "invalid_name_specials"),
        ("--__", "invalid_name_punctuation"),
    ],
)
def test_channel_name_rules(web: WebClient, name: str, code: str) -> None:
    assert code_of(web.conversations_create, name=name) == code


def test_channel_name_control_and_name_taken(web: WebClient, sb: SlackSandbox) -> None:
    made = web.conversations_create(name="inc-2024_db" + "x" * 69)  # 80 chars, all allowed
    assert made["channel"]["creator"] == sb.bot_user_id
    assert code_of(web.conversations_create, name="inc-2024_db" + "x" * 69) == "name_taken"
    web.conversations_archive(channel=made["channel"]["id"])
    assert (
        code_of(web.conversations_create, name="inc-2024_db" + "x" * 69) == "name_taken"
    )  # archived keep names


def test_created_channel_has_the_bot_as_member(web: WebClient, sb: SlackSandbox) -> None:
    made = web.conversations_create(name="private-room", is_private=True)
    channel = sb.channel(made["channel"]["id"])
    assert channel.members == [sb.bot_user_id]
    assert channel.is_private
    assert made["channel"]["is_member"] is True


# ---- invites ----------------------------------------------------------------------------------------
def test_invite_errors_and_control(web: WebClient, sb: SlackSandbox) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    ch = web.conversations_create(name="inc-invite")["channel"]["id"]
    assert web.conversations_invite(channel=ch, users=[alice.id])["channel"]["id"] == ch
    assert code_of(web.conversations_invite, channel=ch, users=[alice.id]) == "already_in_channel"
    assert code_of(web.conversations_invite, channel=ch, users=["U0NOBODY"]) == "user_not_found"
    assert code_of(web.conversations_invite, channel=ch, users=[sb.bot_user_id]) == "cant_invite_self"
    # Without force the first bad user stops the call and nobody is invited.
    data = error_of(web.conversations_invite, channel=ch, users=["U0NOBODY", bob.id])
    assert data["error"] == "user_not_found"
    assert "errors" not in data
    assert bob.id not in sb.channel(ch).members


def test_invite_force_skips_bad_users_and_lists_them(web: WebClient, sb: SlackSandbox) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    ch = web.conversations_create(name="inc-force")["channel"]["id"]
    web.conversations_invite(channel=ch, users=[alice.id])
    answer = web.conversations_invite(
        channel=ch, users=[alice.id, "U0NOBODY", sb.bot_user_id, bob.id], force=True
    )
    assert answer["ok"]
    assert answer["errors"] == [
        {"user": alice.id, "ok": False, "error": "already_in_channel"},
        {"user": "U0NOBODY", "ok": False, "error": "user_not_found"},
        {"user": sb.bot_user_id, "ok": False, "error": "cant_invite_self"},
    ]
    assert bob.id in sb.channel(ch).members
    data = error_of(web.conversations_invite, channel=ch, users=["U0NOBODY"], force=True)
    assert data["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]


def test_invite_at_most_100_users(web: WebClient, sb: SlackSandbox) -> None:
    users = [sb.add_user(f"user{i}").id for i in range(101)]
    ch = web.conversations_create(name="inc-crowd")["channel"]["id"]
    assert code_of(web.conversations_invite, channel=ch, users=users) == "cant_invite"
    assert web.conversations_invite(channel=ch, users=users[:100])["ok"]
    assert len(sb.channel(ch).members) == 101


def test_invite_needs_the_bot_in_the_channel(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("people-only", members=[alice])
    assert code_of(web.conversations_invite, channel=ch.id, users=[alice.id]) == "not_in_channel"


def test_member_joined_channel_event_sent_when_subscribed(sb: SlackSandbox, web: WebClient) -> None:
    # The event itself is covered in the inbound tests; here: membership reflects the invite.
    alice = sb.add_user("alice")
    ch = web.conversations_create(name="inc-joined")["channel"]["id"]
    web.conversations_invite(channel=ch, users=[alice.id])
    joins = sb.messages(ch, include_system=True)
    assert [m.subtype for m in joins] == ["channel_join"]


# ---- posting ----------------------------------------------------------------------------------------
def test_not_in_channel_until_the_bot_joins(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("random", members=[alice])
    assert code_of(web.chat_postMessage, channel=ch.id, text="hi") == "not_in_channel"
    assert code_of(web.conversations_history, channel=ch.id) == "not_in_channel"
    assert web.conversations_join(channel=ch.id)["ok"]
    assert web.chat_postMessage(channel=ch.id, text="hi")["ok"]
    joined = web.conversations_join(channel=ch.id)
    assert joined["warning"] == "already_in_channel"


def test_chat_write_public_posts_without_joining(sb: SlackSandbox) -> None:
    ch = sb.add_channel("announcements")
    client = WebClient(token=sb.issue_token(["chat:write", "chat:write.public"]), base_url=sb.api_url)
    assert client.chat_postMessage(channel=ch.id, text="hello")["ok"]


def test_private_channel_the_bot_is_not_in_does_not_exist_for_it(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    secret = sb.add_channel("secret", members=[alice], is_private=True)
    assert code_of(web.conversations_info, channel=secret.id) == "channel_not_found"
    assert code_of(web.conversations_join, channel=secret.id) == "channel_not_found"
    public = sb.add_channel("public", members=[alice])
    assert web.conversations_info(channel=public.id)["channel"]["is_member"] is False


def test_join_private_channel_not_supported(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("locked", members=[sb.bot], is_private=True)
    assert code_of(web.conversations_join, channel=ch.id) == "method_not_supported_for_channel_type"


def test_archived_channel(web: WebClient, sb: SlackSandbox) -> None:
    ch = web.conversations_create(name="inc-old")["channel"]["id"]
    posted = web.chat_postMessage(channel=ch, text="before")
    web.conversations_archive(channel=ch)
    assert code_of(web.chat_postMessage, channel=ch, text="after") == "is_archived"
    assert code_of(web.conversations_setTopic, channel=ch, topic="t") == "is_archived"
    assert code_of(web.reactions_add, channel=ch, name="eyes", timestamp=posted["ts"]) == "is_archived"
    assert code_of(web.conversations_archive, channel=ch) == "already_archived"
    assert code_of(web.chat_update, channel=ch, ts=posted["ts"], text="x") == "is_inactive"


def test_archive_rules(web: WebClient, sb: SlackSandbox) -> None:
    general = sb.add_channel("general", members=[sb.bot], is_general=True)
    assert code_of(web.conversations_archive, channel=general.id) == "cant_archive_general"
    other = sb.add_channel("other")
    assert code_of(web.conversations_archive, channel=other.id) == "not_in_channel"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_no_text(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("quiet", members=[sb.bot])
    assert code_of(web.chat_postMessage, channel=ch.id) == "no_text"
    assert web.chat_postMessage(channel=ch.id, blocks=[{"type": "divider"}])["ok"]


def test_text_over_40000_is_truncated_with_a_warning(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("long", members=[sb.bot])
    answer = web.chat_postMessage(channel=ch.id, text="x" * 40_001)
    assert answer["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(sb.messages(ch)[0].text) == 40_000
    assert "warning" not in web.chat_postMessage(channel=ch.id, text="x" * 40_000)


def test_post_to_a_user_opens_the_dm(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    answer = web.chat_postMessage(channel=alice.id, text="you are on call")
    assert answer["channel"].startswith("D")
    assert [m.text for m in sb.messages(sb.dm(alice))] == ["you are on call"]


# ---- message edits ----------------------------------------------------------------------------------
def test_update_errors_and_control(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("edits", members=[sb.bot])
    posted = web.chat_postMessage(channel=ch.id, text="v1", blocks=[{"type": "divider"}])
    assert code_of(web.chat_update, channel=ch.id, ts="1.000001", text="v2") == "message_not_found"
    answer = web.chat_update(channel=ch.id, ts=posted["ts"], text="v2")
    assert answer["text"] == "v2"
    msg = sb.message(ch, posted["ts"])
    assert msg.text == "v2"
    assert msg.blocks[0]["type"] == "divider"  # left out of the update: kept
    assert msg.edited is not None


@pytest.mark.asyncio
async def test_cant_update_someone_elses_message(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("people", members=[alice, sb.bot])
    said = await sb.say(alice, ch, "my words")
    assert code_of(web.chat_update, channel=ch.id, ts=said.ts, text="bot words") == "cant_update_message"
    assert code_of(web.chat_delete, channel=ch.id, ts=said.ts) == "cant_delete_message"


def test_ephemeral_needs_the_user_in_the_channel(web: WebClient, sb: SlackSandbox) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    ch = sb.add_channel("eph", members=[alice, sb.bot])
    assert code_of(web.chat_postEphemeral, channel=ch.id, user=bob.id, text="psst") == "user_not_in_channel"
    ts = web.chat_postEphemeral(channel=ch.id, user=alice.id, text="psst")["message_ts"]
    [eph] = sb.ephemerals(alice)
    assert (eph.ts, eph.text) == (ts, "psst")
    assert sb.ephemerals(bob) == []
    assert sb.messages(ch) == []


# ---- timestamps and threads -------------------------------------------------------------------------
def test_ts_from_the_clock_strictly_increasing() -> None:
    clock = SandboxClock(start=1_700_000_000.0, frozen=True)
    with SlackSandbox(clock=clock) as sb:
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        ch = sb.add_channel("ts", members=[sb.bot])
        tss = [web.chat_postMessage(channel=ch.id, text=str(i))["ts"] for i in range(3)]
        assert tss == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]
        clock.advance(1.5)
        assert web.chat_postMessage(channel=ch.id, text="later")["ts"] == "1700000001.500000"


def test_threads(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("threads", members=[sb.bot])
    parent = web.chat_postMessage(channel=ch.id, text="parent")["ts"]
    reply = web.chat_postMessage(channel=ch.id, text="r1", thread_ts=parent)["ts"]
    web.chat_postMessage(channel=ch.id, text="r2", thread_ts=reply)  # a reply to a reply joins the thread
    web.chat_postMessage(channel=ch.id, text="r3", thread_ts=parent, reply_broadcast=True)
    history = web.conversations_history(channel=ch.id)["messages"]
    assert [m["text"] for m in history] == ["r3", "parent"]
    assert history[1]["reply_count"] == 3
    replies = web.conversations_replies(channel=ch.id, ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["parent", "r1", "r2", "r3"]
    assert {m.thread_ts for m in sb.thread(ch, parent)} == {parent}
    assert code_of(web.conversations_replies, channel=ch.id, ts="1.000009") == "thread_not_found"


def test_history_pagination(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("many", members=[sb.bot])
    for i in range(5):
        web.chat_postMessage(channel=ch.id, text=str(i))
    first = web.conversations_history(channel=ch.id, limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"]
    assert first["has_more"]
    rest = web.conversations_history(
        channel=ch.id, limit=10, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["2", "1", "0"]
    assert code_of(web.conversations_history, channel=ch.id, cursor="garbage") == "invalid_cursor"


# ---- topic, purpose ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["conversations_setTopic", "conversations_setPurpose"])
def test_topic_and_purpose_at_most_250(web: WebClient, sb: SlackSandbox, method: str) -> None:
    ch = sb.add_channel("topics", members=[sb.bot])
    field = "topic" if method.endswith("Topic") else "purpose"
    assert code_of(getattr(web, method), channel=ch.id, **{field: "x" * 251}) == "too_long"
    answer = getattr(web, method)(channel=ch.id, **{field: "y" * 250})
    assert answer["channel"][field]["value"] == "y" * 250
    outsider = sb.add_channel("outside")
    assert code_of(getattr(web, method), channel=outsider.id, **{field: "t"}) == "not_in_channel"


# ---- reactions, pins, bookmarks ---------------------------------------------------------------------
def test_reactions(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("react", members=[sb.bot])
    ts = web.chat_postMessage(channel=ch.id, text="look")["ts"]
    assert web.reactions_add(channel=ch.id, name=":eyes:", timestamp=ts)["ok"]
    assert code_of(web.reactions_add, channel=ch.id, name="eyes", timestamp=ts) == "already_reacted"
    assert code_of(web.reactions_add, channel=ch.id, name="Not An Emoji", timestamp=ts) == "invalid_name"
    assert code_of(web.reactions_add, channel=ch.id, name="eyes", timestamp="1.000009") == "message_not_found"
    assert code_of(web.reactions_add, channel=ch.id, name="eyes", timestamp="soon") == "bad_timestamp"
    [reaction] = sb.message(ch, ts).reactions
    assert (reaction.name, reaction.users) == ("eyes", [sb.bot_user_id])


def test_pins(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("pins", members=[sb.bot])
    ts = web.chat_postMessage(channel=ch.id, text="pin me")["ts"]
    assert web.pins_add(channel=ch.id, timestamp=ts)["ok"]
    assert sb.message(ch, ts).pinned
    assert code_of(web.pins_add, channel=ch.id, timestamp=ts) == "already_pinned"
    assert code_of(web.pins_add, channel=ch.id, timestamp="1.000009") == "message_not_found"
    assert code_of(web.pins_add, channel=ch.id) == "no_item_specified"


def test_bookmarks(web: WebClient, sb: SlackSandbox) -> None:
    ch = sb.add_channel("marks", members=[sb.bot])
    mark = web.bookmarks_add(channel_id=ch.id, title="Runbook", type="link", link="https://runbooks/db")
    assert mark["bookmark"]["title"] == "Runbook"
    assert [b.link for b in sb.channel(ch).bookmarks] == ["https://runbooks/db"]
    assert (
        code_of(web.bookmarks_add, channel_id=ch.id, title="x", type="link", link="ftp://x") == "invalid_link"
    )
    assert code_of(web.bookmarks_add, channel_id=ch.id, title="x", type="folder") == "invalid_bookmark_type"
    assert code_of(web.bookmarks_add, channel_id="C0NOPE", title="x", type="link", link="https://x") == (
        "channel_not_found"
    )


# ---- users and groups -------------------------------------------------------------------------------
def test_users_and_groups(web: WebClient, sb: SlackSandbox) -> None:
    alice = sb.add_user("alice", real_name="Alice Ops", email="Alice@Example.com")
    bob = sb.add_user("bob")
    grp = sb.add_usergroup("dataops-oncall", [alice, bob])
    assert web.users_lookupByEmail(email="alice@example.com")["user"]["id"] == alice.id
    assert code_of(web.users_lookupByEmail, email="nobody@example.com") == "users_not_found"
    info = web.users_info(user=alice.id)["user"]
    assert (info["real_name"], info["profile"]["email"]) == ("Alice Ops", "Alice@Example.com")
    assert code_of(web.users_info, user="U0NOBODY") == "user_not_found"
    listed = web.usergroups_list(include_users=True)["usergroups"]
    assert [(g["id"], g["handle"], g["users"]) for g in listed] == [
        (grp.id, "dataops-oncall", [alice.id, bob.id])
    ]
    assert web.usergroups_users_list(usergroup=grp.id)["users"] == [alice.id, bob.id]
    assert code_of(web.usergroups_users_list, usergroup="S0NOPE") == "no_such_subteam"


def test_email_needs_its_scope(sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    client = WebClient(token=sb.issue_token(["users:read"]), base_url=sb.api_url)
    assert "email" not in client.users_info(user=alice.id)["user"]["profile"]
