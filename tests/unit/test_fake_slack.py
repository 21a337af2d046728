"""Tests of the fake Slack itself (real HTTP through slack_sdk), the renderer and the driver."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.driver import SlackDriver
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.render import buttons, inputs, visible_text

TOKEN = "xoxb-test-token"
SECRET = "shhh-signing-secret"


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock) as f:
        f.add_user("U1", name="alice", real_name="Alice A", tz="Europe/Berlin")
        f.add_user("U2", name="bob")
        f.add_user("U3", name="carol")
        f.add_channel("C1", name="sales", members=["U1", "U2"])
        f.add_channel("C2", name="secret", is_private=True, bot_is_member=False)
        f.add_channel("C3", name="outside", bot_is_member=False)
        yield f


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    # No retry handlers: the default connection-error handler would sleep a second per reset.
    c = AsyncWebClient(base_url=fake.base_url, token=TOKEN, retry_handlers=[])
    yield c


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def actions(*labels: str, block_id: str = "acts") -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": lab},
                "action_id": f"act_{i}",
                "value": f"v{i}",
            }
            for i, lab in enumerate(labels)
        ],
    }


MODAL = {
    "type": "modal",
    "callback_id": "new_lead",
    "title": {"type": "plain_text", "text": "New lead"},
    "submit": {"type": "plain_text", "text": "Save"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": "meta",
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name_in"},
        },
        {
            "type": "input",
            "block_id": "tier",
            "label": {"type": "plain_text", "text": "Tier"},
            "element": {
                "type": "static_select",
                "action_id": "tier_in",
                "options": [
                    {"text": {"type": "plain_text", "text": "Gold"}, "value": "gold"},
                    {"text": {"type": "plain_text", "text": "Silver"}, "value": "silver"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "agree",
            "optional": True,
            "label": {"type": "plain_text", "text": "Consent"},
            "element": {
                "type": "checkboxes",
                "action_id": "agree_in",
                "options": [{"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "note_in", "multiline": True},
        },
    ],
}


# ---------------------------------------------------------------------------------------------- messages


async def test_post_message_shape_and_increasing_ts(fake: FakeSlack, client: AsyncWebClient) -> None:
    r1 = await client.chat_postMessage(
        channel="C1", text="one", blocks=[section("*one*")], unfurl_links=False
    )
    r2 = await client.chat_postMessage(channel="C1", text="two")
    assert r1["ok"] and r1["channel"] == "C1"
    assert r1["ts"] == "1700000000.000000"
    assert float(r2["ts"]) > float(r1["ts"])
    msg = r1["message"]
    assert msg["type"] == "message" and msg["user"] == "U0BOT" and msg["bot_id"] == "B0BOT"
    assert msg["blocks"][0]["block_id"]  # Slack fills in missing block ids
    stored = fake.messages("C1")
    assert [m.text for m in stored] == ["one", "two"]
    assert stored[0].extra["unfurl_links"] is False
    assert fake.latest("C1").text == "two"  # type: ignore[union-attr]
    assert fake.find_message("one").ts == r1["ts"]  # type: ignore[union-attr]


async def test_form_encoded_blocks_are_parsed(fake: FakeSlack) -> None:
    blocks = json.dumps([section("from a form")])
    async with aiohttp.ClientSession() as s:
        async with s.post(
            fake.base_url + "chat.postMessage",
            data={"channel": "C1", "text": "t", "blocks": blocks, "token": TOKEN},
        ) as resp:
            body = await resp.json()
    assert body["ok"], body
    assert fake.latest("C1").blocks[0]["text"]["text"] == "from a form"  # type: ignore[union-attr]


async def test_threads_and_reply_counts(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C1", text="parent")
    r1 = await client.chat_postMessage(channel="C1", text="reply 1", thread_ts=parent["ts"])
    await client.chat_postMessage(
        channel="C1", text="reply 2", thread_ts=r1["ts"]
    )  # reply-to-reply joins parent
    assert [m.text for m in fake.messages("C1")] == ["parent"]
    assert [m.text for m in fake.thread("C1", parent["ts"])] == ["reply 1", "reply 2"]
    p = fake.messages("C1")[0]
    assert p.reply_count == 2 and p.latest_reply == fake.thread("C1", parent["ts"])[-1].ts
    assert len(fake.messages("C1", include_threads=True)) == 3
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="C1", text="x", thread_ts="1.000000")
    assert e.value.response["error"] == "invalid_thread_ts"
    link = await client.chat_getPermalink(channel="C1", message_ts=r1["ts"])
    assert link["permalink"].endswith(f"?thread_ts={parent['ts']}&cid=C1")


async def test_update_keeps_history_and_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    r = await client.chat_postMessage(channel="C1", text="v1", blocks=[section("v1")])
    u = await client.chat_update(channel="C1", ts=r["ts"], text="v2", blocks=[section("v2")])
    assert u["ts"] == r["ts"] and u["text"] == "v2" and u["message"]["edited"]["user"] == "U0BOT"
    msg = fake.messages("C1")[0]
    assert msg.text == "v2" and [e["text"] for e in msg.edits] == ["v1"]
    with pytest.raises(SlackApiError) as e:
        await client.chat_update(channel="C1", ts="1.2", text="x")
    assert e.value.response["error"] == "message_not_found"
    human = fake.post_as_user("C1", "U1", "hello")
    with pytest.raises(SlackApiError) as e:
        await client.chat_update(channel="C1", ts=human.ts, text="x")
    assert e.value.response["error"] == "cant_update_message"
    await client.chat_delete(channel="C1", ts=r["ts"])
    assert [m.text for m in fake.messages("C1")] == ["hello"]


async def test_ephemerals_and_dms(fake: FakeSlack, client: AsyncWebClient) -> None:
    r = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert r["ok"] and r["message_ts"]
    assert [e.text for e in fake.ephemerals("U1")] == ["only you"]
    with pytest.raises(SlackApiError) as e:
        await client.chat_postEphemeral(channel="C1", user="U3", text="nope")
    assert e.value.response["error"] == "user_not_in_channel"
    dm = await client.chat_postMessage(channel="U3", text="psst")
    assert dm["channel"].startswith("D")
    opened = await client.conversations_open(users="U3")
    assert opened["channel"]["id"] == dm["channel"] and opened["already_open"]
    assert [m.text for m in fake.dms("U3")] == ["psst"]


async def test_channel_errors_and_auth(fake: FakeSlack, client: AsyncWebClient) -> None:
    for channel, error in (("C404", "channel_not_found"), ("C2", "not_in_channel"), ("C3", "not_in_channel")):
        with pytest.raises(SlackApiError) as e:
            await client.chat_postMessage(channel=channel, text="x")
        assert e.value.response["error"] == error
    with pytest.raises(SlackApiError) as e:
        await AsyncWebClient(base_url=fake.base_url, token="xoxb-wrong").auth_test()
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:
        await AsyncWebClient(base_url=fake.base_url).auth_test()
    assert e.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as e:
        await client.api_call("chat.doSomethingOdd")
    assert e.value.response["error"] == "unknown_method"
    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0HANDOFF", "U0BOT", "B0BOT")
    assert auth["is_enterprise_install"] is False


async def test_lookups(fake: FakeSlack, client: AsyncWebClient) -> None:
    info = await client.conversations_info(channel="C1")
    assert info["channel"]["name"] == "sales" and info["channel"]["is_member"] is True
    members = await client.conversations_members(channel="C1")
    assert set(members["members"]) == {"U0BOT", "U1", "U2"}
    assert members["response_metadata"]["next_cursor"] == ""
    page = await client.conversations_members(channel="C1", limit=2)
    rest = await client.conversations_members(
        channel="C1", limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert len(page["members"]) + len(rest["members"]) == 3
    user = await client.users_info(user="U1")
    assert user["user"]["real_name"] == "Alice A" and user["user"]["tz"] == "Europe/Berlin"
    with pytest.raises(SlackApiError) as e:
        await client.users_info(user="U404")
    assert e.value.response["error"] == "user_not_found"
    fake.add_usergroup("S1", handle="sales-team", users=["U1", "U2"])
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as e:
        await client.usergroups_users_list(usergroup="S404")
    assert e.value.response["error"] == "no_such_subteam"


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("blocks", "text", "needle"),
    [
        ([section(f"b{i}") for i in range(51)], "fallback", "no more than 50"),
        ([section("x" * 3001)], "fallback", "3000"),
        ([section("fine")], None, "fallback"),
        ([section("a", block_id="same"), section("b", block_id="same")], "t", "duplicate block_id"),
        ([{"type": "no_such_block"}], "t", "unsupported block type"),
    ],
)
async def test_invalid_blocks(
    fake: FakeSlack, client: AsyncWebClient, blocks: list[dict[str, Any]], text: str | None, needle: str
) -> None:
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="C1", text=text, blocks=blocks)
    assert e.value.response["error"] == "invalid_blocks"
    assert any(needle in err for err in e.value.response["errors"]), e.value.response["errors"]
    assert fake.violations and fake.messages("C1") == []
    with pytest.raises(AssertionError, match="rejected"):
        fake.assert_no_violations()
    fake.violations.clear()


async def test_long_button_text_is_invalid(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="C1", text="t", blocks=[actions("x" * 76)])
    assert e.value.response["error"] == "invalid_blocks"
    fake.violations.clear()


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_no_text(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="C1", text="")
    assert e.value.response["error"] == "no_text"


# ---------------------------------------------------------------------------------------------- views


async def test_views_open_trigger_expiry_and_reuse(
    fake: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id="123.nope", view=MODAL)
    assert e.value.response["error"] == "invalid_trigger_id"
    stale = fake.issue_trigger("U1")
    clock.advance(3.5)
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id=stale, view=MODAL)
    assert e.value.response["error"] == "expired_trigger_id"
    fresh = fake.issue_trigger("U1")
    opened = await client.views_open(trigger_id=fresh, view=MODAL)
    view = opened["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["hash"]
    assert view["callback_id"] == "new_lead" and view["state"] == {"values": {}}
    assert fake.open_view("U1")["id"] == view["id"]  # type: ignore[index]
    with pytest.raises(SlackApiError) as e:
        await client.views_open(trigger_id=fresh, view=MODAL)
    assert e.value.response["error"] == "expired_trigger_id"


async def test_views_update_hash_and_push(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = (await client.views_open(trigger_id=fake.issue_trigger("U1"), view=MODAL))["view"]
    updated = await client.views_update(
        view_id=view["id"], hash=view["hash"], view={**MODAL, "private_metadata": "2"}
    )
    assert updated["view"]["private_metadata"] == "2" and updated["view"]["id"] == view["id"]
    with pytest.raises(SlackApiError) as e:
        await client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    assert e.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as e:
        await client.views_update(view_id="V404", view=MODAL)
    assert e.value.response["error"] == "not_found"
    pushed = (await client.views_push(trigger_id=fake.issue_trigger("U1"), view=MODAL))["view"]
    assert pushed["previous_view_id"] == view["id"] and pushed["root_view_id"] == view["id"]
    assert [v["id"] for v in fake.view_stack("U1")] == [view["id"], pushed["id"]]


async def test_invalid_view_and_home(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError):
        await client.views_open(
            trigger_id=fake.issue_trigger("U1"),
            view={**MODAL, "title": {"type": "plain_text", "text": "A title that is far too long"}},
        )
    assert any("title" in v for v in fake.violations)
    fake.violations.clear()
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 101})
    fake.violations.clear()
    home = {"type": "home", "blocks": [section("Your leads"), actions("Refresh")]}
    await client.views_publish(user_id="U1", view=home)
    await client.views_publish(user_id="U1", view={**home, "blocks": [section("Updated")]})
    assert visible_text(fake.home("U1")) == "Updated"


# ---------------------------------------------------------------------------------------------- misbehaviour


async def test_ratelimited_seen_by_slack_sdk_and_retried(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", kind="ratelimited", retry_after=0)
    plain = AsyncWebClient(base_url=fake.base_url, token=TOKEN, retry_handlers=[])
    with pytest.raises(SlackApiError) as e:
        await plain.chat_postMessage(channel="C1", text="x")
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "0"
    assert e.value.response["error"] == "ratelimited"
    fake.fail("chat.postMessage", kind="ratelimited", retry_after=0)
    retrying = AsyncWebClient(
        base_url=fake.base_url,
        token=TOKEN,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert (await retrying.chat_postMessage(channel="C1", text="y"))["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 429, 200]


async def test_server_error_error_and_reset(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail(kind="server_error", status=503)
    with pytest.raises(SlackApiError) as e:
        await client.auth_test()
    assert e.value.response.status_code == 503
    fake.fail("auth.test", kind="error", error="fatal_error")
    with pytest.raises(SlackApiError) as e:
        await client.auth_test()
    assert e.value.response["error"] == "fatal_error"
    fake.fail("auth.test", kind="reset")
    with pytest.raises(aiohttp.ClientError):
        await client.auth_test()
    assert fake.calls[-1].response is None
    fake.unreachable(True)
    with pytest.raises(aiohttp.ClientError):
        await client.auth_test()
    fake.unreachable(False)
    assert (await client.auth_test())["ok"]


async def test_timeout_kind_and_latency(fake: FakeSlack) -> None:
    fake.fail("auth.test", kind="timeout", delay=0.5)
    impatient = AsyncWebClient(base_url=fake.base_url, token=TOKEN, timeout=0.1, retry_handlers=[])  # type: ignore[arg-type]
    with pytest.raises(asyncio.TimeoutError):
        await impatient.auth_test()
    fake.set_latency(0.05)
    t0 = time.perf_counter()
    assert (await impatient.auth_test())["ok"]
    assert time.perf_counter() - t0 >= 0.05


async def test_chaos_is_deterministic_with_seed(fake: FakeSlack, client: AsyncWebClient) -> None:
    async def run() -> list[int]:
        fake.reset_calls()
        fake.chaos(0.5, kinds=("ratelimited", "server_error", "error"), seed=42)
        for _ in range(20):
            try:
                await client.auth_test()
            except SlackApiError:
                pass
        return [c.status for c in fake.calls]

    first, second = await run(), await run()
    assert first == second and 200 in first and any(s != 200 for s in first)
    fake.chaos(0)
    assert (await client.auth_test())["ok"]


async def test_per_channel_token_bucket(fake: FakeSlack, client: AsyncWebClient, clock: Clock) -> None:
    fake.rate_limit(per_channel_per_second=1, burst=2)
    await client.chat_postMessage(channel="C1", text="1")
    await client.chat_postMessage(channel="C1", text="2")
    with pytest.raises(SlackApiError) as e:
        await client.chat_postMessage(channel="C1", text="3")
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="U1", text="other channel has its own bucket")
    clock.advance(1.0)
    await client.chat_postMessage(channel="C1", text="3")
    assert fake.rate_limited_count == 1 and len(fake.messages("C1")) == 3


# ---------------------------------------------------------------------------------------------- files, oauth, response_url


async def test_files_upload_v2_flow(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C1", text="report thread")
    r = await client.files_upload_v2(
        channel="C1",
        thread_ts=parent["ts"],
        content=b"a,b\n1,2\n",
        filename="r.csv",
        title="Report",
        initial_comment="Weekly numbers",
    )
    assert r["ok"] and r["files"][0]["title"] == "Report"
    (up,) = fake.files
    assert up.content == b"a,b\n1,2\n" and up.channel == "C1" and up.thread_ts == parent["ts"]
    (reply,) = fake.thread("C1", parent["ts"])
    assert reply.text == "Weekly numbers" and reply.files[0]["id"] == up.id


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated")
async def test_oauth_v2_access(fake: FakeSlack) -> None:
    fake.set_oauth_code("code-1", team_id="T2", bot_token="xoxb-t2", team_name="Two")
    anon = AsyncWebClient(base_url=fake.base_url)
    r = await anon.oauth_v2_access(client_id="cid", client_secret="sec", code="code-1")
    assert (
        r["access_token"] == "xoxb-t2"
        and r["team"] == {"id": "T2", "name": "Two"}
        and r["token_type"] == "bot"
    )
    with pytest.raises(SlackApiError) as e:
        await anon.oauth_v2_access(client_id="cid", client_secret="sec", code="code-1")
    assert e.value.response["error"] == "invalid_code"
    assert (await AsyncWebClient(base_url=fake.base_url, token="xoxb-t2").auth_test())["team_id"] == "T2"


async def test_response_url(fake: FakeSlack, client: AsyncWebClient) -> None:
    card = await client.chat_postMessage(
        channel="C1", text="card", blocks=[section("card"), actions("Claim")]
    )
    url = fake.issue_response_url(channel_id="C1", user_id="U1", message_ts=card["ts"])
    hook = AsyncWebhookClient(url)
    assert (await hook.send(text="just for you")).status_code == 200
    assert fake.ephemerals("U1")[-1].text == "just for you"
    await hook.send(text="claimed", blocks=[section("Claimed by <@U1>")], replace_original=True)
    msg = fake.messages("C1")[0]
    assert msg.text == "claimed" and len(msg.edits) == 1
    await hook.send(text="everyone", response_type="in_channel")
    assert fake.latest("C1").text == "everyone"  # type: ignore[union-attr]
    bad = await hook.send(text="t", blocks=[section("x" * 3001)])
    assert bad.status_code == 400 and fake.violations
    fake.violations.clear()
    # a payload Slack rejects is not a response
    assert [r.response_type for r in fake.responses] == ["ephemeral", "ephemeral", "in_channel"]


# ---------------------------------------------------------------------------------------------- render


def test_render_helpers() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "New lead"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Ann* &lt;!channel&gt;"},
            "fields": [{"type": "mrkdwn", "text": "Score: 80"}],
            "accessory": {"type": "image", "image_url": "https://x/y.png", "alt_text": "logo"},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "via web"}, {"type": "mrkdwn", "text": "2m"}],
        },
        {"type": "divider"},
        actions("Claim", "Pass"),
    ]
    assert (
        visible_text(blocks)
        == "New lead\n*Ann* &lt;!channel&gt;\nScore: 80\n[image: logo]\nvia web 2m\n---\n[Claim] [Pass]"
    )
    assert visible_text({"text": "fallback only"}) == "fallback only"
    assert [b["text"] for b in buttons(blocks)] == ["Claim", "Pass"]
    assert buttons(blocks)[0] | {} == {
        "text": "Claim",
        "action_id": "act_0",
        "block_id": "acts",
        "value": "v0",
        "style": None,
        "url": None,
    }
    fields = inputs(MODAL)
    assert [f["label"] for f in fields] == ["Name", "Tier", "Consent", "Note"]
    assert fields[1]["options"] == [{"text": "Gold", "value": "gold"}, {"text": "Silver", "value": "silver"}]
    assert visible_text(MODAL).splitlines()[0] == "New lead"


# ---------------------------------------------------------------------------------------------- driver


class EchoBot:
    """Records signed requests; answers with whatever the test queues."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[web.Response] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append({"headers": dict(request.headers), "body": body})
        return self.answers.pop(0) if self.answers else web.Response(status=200)

    def last_payload(self) -> dict[str, Any]:
        return json.loads(parse_qs(self.requests[-1]["body"])["payload"][0])


@pytest.fixture
async def bot() -> AsyncIterator[tuple[EchoBot, str]]:
    echo = EchoBot()
    app = web.Application()
    app.router.add_post("/slack/events", echo.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield echo, f"http://127.0.0.1:{port}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def driver(fake: FakeSlack, bot: tuple[EchoBot, str]) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(fake=fake, bot_url=bot[1], signing_secret=SECRET) as d:
        yield d


def verify(req: dict[str, Any]) -> bool:
    h = req["headers"]
    return SignatureVerifier(SECRET).is_valid(
        body=req["body"], timestamp=h["X-Slack-Request-Timestamp"], signature=h["X-Slack-Signature"]
    )


async def test_command_is_signed_and_shaped(
    driver: SlackDriver, bot: tuple[EchoBot, str], fake: FakeSlack
) -> None:
    echo, _ = bot
    echo.answers.append(web.json_response({"text": "Working on it &lt;b&gt;"}))
    reply = await driver.command("U1", "/lead", "new Ann", channel_id="C1")
    req = echo.requests[-1]
    assert verify(req)
    form = {k: v[0] for k, v in parse_qs(req["body"]).items()}
    assert form["command"] == "/lead" and form["text"] == "new Ann" and form["channel_name"] == "sales"
    assert (
        form["user_name"] == "alice" and form["team_id"] == "T0HANDOFF" and form["api_app_id"] == "A0HANDOFF"
    )
    assert form["response_url"].startswith(fake.url) and form["trigger_id"]
    assert reply.text == "Working on it &lt;b&gt;"
    assert fake.ephemerals("U1", channel="C1")[-1].source == "ack"
    # the trigger it carried is a real one
    assert (
        await AsyncWebClient(base_url=fake.base_url, token=TOKEN).views_open(
            trigger_id=form["trigger_id"], view=MODAL
        )
    )["ok"]
    echo.answers.append(web.json_response({"response_type": "in_channel", "text": "Lead posted"}))
    await driver.command("U1", "/lead", channel_id="C1")
    assert fake.latest("C1").text == "Lead posted"  # type: ignore[union-attr]


async def test_click_payload(driver: SlackDriver, bot: tuple[EchoBot, str], fake: FakeSlack) -> None:
    echo, _ = bot
    client = AsyncWebClient(base_url=fake.base_url, token=TOKEN)
    card = await client.chat_postMessage(
        channel="C1", text="card", blocks=[section("Ann"), actions("Claim", "Pass")]
    )
    await client.chat_postMessage(channel="C1", text="later, no buttons")
    await driver.click("U2", "Pass", channel_id="C1")
    assert verify(echo.requests[-1])
    p = echo.last_payload()
    assert p["type"] == "block_actions" and p["user"]["id"] == "U2" and p["team"]["id"] == "T0HANDOFF"
    assert p["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert p["channel"] == {"id": "C1", "name": "sales"} and p["message"]["blocks"][1]["block_id"] == "acts"
    (action,) = p["actions"]
    assert action["action_id"] == "act_1" and action["value"] == "v1" and action["type"] == "button"
    assert action["text"] == {"type": "plain_text", "text": "Pass", "emoji": True}
    await AsyncWebhookClient(p["response_url"]).send(text="passed", replace_original=True)
    assert fake.message("C1", card["ts"]).text == "passed"  # type: ignore[union-attr]
    with pytest.raises(AssertionError, match="visible buttons"):
        await driver.click("U2", "Nope", channel_id="C1")


async def test_modal_submit_errors_and_close(
    driver: SlackDriver, bot: tuple[EchoBot, str], fake: FakeSlack
) -> None:
    echo, _ = bot
    client = AsyncWebClient(base_url=fake.base_url, token=TOKEN)
    view = (await client.views_open(trigger_id=fake.issue_trigger("U1"), view=MODAL))["view"]
    echo.answers.append(web.json_response({"response_action": "errors", "errors": {"name": "Required"}}))
    reply = await driver.submit("U1", {"Name": "Ann", "Tier": "Gold", "Consent": True})
    p = echo.last_payload()
    assert p["type"] == "view_submission" and p["view"]["id"] == view["id"] and p["response_urls"] == []
    values = p["view"]["state"]["values"]
    assert values["name"]["name_in"] == {"type": "plain_text_input", "value": "Ann"}
    assert values["tier"]["tier_in"]["selected_option"]["value"] == "gold"
    assert [o["value"] for o in values["agree"]["agree_in"]["selected_options"]] == ["yes"]
    assert values["note"]["note_in"] == {"type": "plain_text_input", "value": None}
    assert reply.errors == {"name": "Required"} and fake.view_errors(view["id"]) == {"name": "Required"}
    assert fake.open_view("U1") is not None
    echo.answers.append(
        web.json_response({"response_action": "push", "view": {**MODAL, "callback_id": "step2"}})
    )
    await driver.submit("U1", {"Name": "Ann", "Tier": "silver"})
    assert fake.open_view("U1")["callback_id"] == "step2"  # type: ignore[index]
    await driver.submit("U1", {"Name": "x", "Tier": "Gold"})  # empty ack pops the pushed view
    assert fake.open_view("U1")["id"] == view["id"]  # type: ignore[index]
    with pytest.raises(AssertionError, match="labels"):
        await driver.submit("U1", {"Nmae": "typo"})
    echo.answers.append(web.json_response({"response_action": "clear"}))
    await driver.submit("U1", {"Name": "Ann", "Tier": "Gold"})
    assert fake.open_view("U1") is None
    notify = await client.views_open(
        trigger_id=fake.issue_trigger("U1"), view={**MODAL, "notify_on_close": True}
    )
    assert notify["ok"]
    await driver.close("U1")
    assert echo.last_payload()["type"] == "view_closed" and fake.open_view("U1") is None


async def test_click_in_ephemeral(driver: SlackDriver, bot: tuple[EchoBot, str], fake: FakeSlack) -> None:
    echo, _ = bot
    client = AsyncWebClient(base_url=fake.base_url, token=TOKEN)
    await client.chat_postEphemeral(
        channel="C1", user="U1", text="sure?", blocks=[section("Sure?"), actions("Yes")]
    )
    await driver.click("U1", "Yes", channel_id="C1")
    p = echo.last_payload()
    assert p["container"]["is_ephemeral"] is True and "message" not in p
    await AsyncWebhookClient(p["response_url"]).send(text="Done", replace_original=True)
    assert [e.text for e in fake.ephemerals("U1")] == ["Done"]
    echo.answers.append(web.Response(text="plain ack"))
    reply = await driver.command("U2", "/lead", channel_id="C1")
    assert reply.text == "plain ack" and fake.ephemerals("U2")[-1].text == "plain ack"


async def test_select_in_message(driver: SlackDriver, bot: tuple[EchoBot, str], fake: FakeSlack) -> None:
    echo, _ = bot
    sel = {
        "type": "section",
        "block_id": "status",
        "text": {"type": "mrkdwn", "text": "Status"},
        "accessory": {
            "type": "static_select",
            "action_id": "set_status",
            "placeholder": {"type": "plain_text", "text": "Pick"},
            "options": [{"text": {"type": "plain_text", "text": "Won"}, "value": "won"}],
        },
    }
    await AsyncWebClient(base_url=fake.base_url, token=TOKEN).chat_postMessage(
        channel="C1", text="s", blocks=[sel]
    )
    await driver.select("U1", "Won", channel_id="C1")
    (action,) = echo.last_payload()["actions"]
    assert action["type"] == "static_select" and action["selected_option"]["value"] == "won"


async def test_events_and_signature_edge_cases(driver: SlackDriver, bot: tuple[EchoBot, str]) -> None:
    echo, _ = bot
    await driver.event(
        {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"},
        retry_num=1,
        retry_reason="http_timeout",
        event_id="Ev1",
    )
    req = echo.requests[-1]
    assert verify(req) and req["headers"]["X-Slack-Retry-Num"] == "1"
    body = json.loads(req["body"])
    assert body["type"] == "event_callback" and body["event_id"] == "Ev1" and body["event"]["event_ts"]
    assert body["authorizations"][0]["user_id"] == "U0BOT"
    await driver.url_verification("chal")
    assert json.loads(echo.requests[-1]["body"])["challenge"] == "chal"
    await driver.app_home_opened("U1")
    assert json.loads(echo.requests[-1]["body"])["event"]["channel"].startswith("D")
    await driver.send_raw(
        "x=1", content_type="application/x-www-form-urlencoded", timestamp="not-a-number", signature="v0=bad"
    )
    assert echo.requests[-1]["headers"]["X-Slack-Signature"] == "v0=bad"
    stale = str(int(time.time()) - 600)
    await driver.send_raw("x=1", content_type="application/x-www-form-urlencoded", timestamp=stale)
    h = echo.requests[-1]["headers"]
    assert h["X-Slack-Signature"] == driver.sign("x=1", stale)
    assert not SignatureVerifier(SECRET).is_valid(
        body="x=1", timestamp=stale, signature=h["X-Slack-Signature"]
    )
