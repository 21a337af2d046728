"""The sandbox server's JSON API: the page's view of the fake Slack, actions as signed requests to
the real bot, files, persistence between runs, and the --demo seed."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.domain.lead_input import parse_lead
from bot.sandbox.demo import seed_demo
from bot.sandbox.server import ADMIN, MARKETER, MARKETING, PARTNERSHIP, REP1, REP2, SALES, TEAM_ID, Sandbox
from bot.services.intake import submit_lead
from bot.storage.models import DiscussionAnswer, Lead, LeadEvent, RoutingRule, Target


@pytest.fixture
async def sandbox(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(settings=load_settings(database_url=database_url), port=0, state_path=tmp_path / "s.json")
    await box.start()
    yield box
    await box.stop()
    box.fake.assert_no_violations()


MINE = object()  # the sandbox's own token


class Page:
    """What the browser page does, over HTTP: it carries the token its HTML was served with."""

    def __init__(self, box: Sandbox, session: aiohttp.ClientSession) -> None:
        self.box, self.session = box, session
        self.origin = box.url.rstrip("/")

    def token_header(self, token: Any = MINE) -> dict[str, str]:
        token = self.box.api_token if token is MINE else token
        return {} if token is None else {"X-Handoff-Sandbox-Token": token}

    async def state(self, user: str) -> dict[str, Any]:
        async with self.session.get(
            f"{self.box.url}api/state", params={"user": user}, headers=self.token_header()
        ) as resp:
            assert resp.status == 200
            return await resp.json()

    async def post(
        self, action: str, user: str, *, headers: dict[str, str] | None = None, token: Any = MINE, **body: Any
    ) -> tuple[int, dict[str, Any]]:
        async with self.session.post(
            f"{self.box.url}api/{action}",
            json={"user": user, **body},
            headers={**self.token_header(token), **(headers or {})},
        ) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession() as session:
        yield Page(sandbox, session)


async def add_lead(box: Sandbox, **fields: Any) -> int:
    assert box.handoff is not None
    data = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme", "source": "webinar", **fields}
    async with box.handoff.open_context(TEAM_ID) as ctx:
        result = await submit_lead(ctx, parse_lead(data), origin="api")
    await eventually(box, lambda: box.fake.find_message(str(data["name"]), SALES), "the card")
    return result.lead.id


async def eventually(box: Sandbox, check: Any, what: str) -> None:
    """The sandbox's own outbox sender runs in the background: drain, and give it a moment."""
    assert box.handoff is not None
    for _ in range(100):
        await box.handoff.sender.drain()
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_state_lists_the_workspace_as_the_user_sees_it(page: Page) -> None:
    state = await page.state(REP1.id)
    assert {u["id"] for u in state["users"]} >= {MARKETER.id, REP1.id, REP2.id, ADMIN.id}
    channels = {c["id"]: c for c in state["channels"]}
    assert {SALES, MARKETING, PARTNERSHIP} <= set(channels)
    assert channels[SALES]["is_member"] and not channels[MARKETING]["is_member"]
    assert [c["kind"] for c in state["channels"]].count("im") == 1  # only their own DM with the bot
    assert "/handoff" in state["commands"]


async def test_unknown_user_is_refused(page: Page) -> None:
    async with page.session.get(
        f"{page.box.url}api/state", params={"user": "U0BOT"}, headers=page.token_header()
    ) as resp:
        assert resp.status == 400
    status, body = await page.post("command", "U0NOBODY", channel=SALES, text="/handoff help")
    assert status == 400 and "unknown user" in body["error"]


async def test_state_answers_304_when_nothing_changed(page: Page) -> None:
    async with page.session.get(
        f"{page.box.url}api/state", params={"user": REP1.id}, headers=page.token_header()
    ) as resp:
        etag = resp.headers["ETag"]
    async with page.session.get(
        f"{page.box.url}api/state",
        params={"user": REP1.id},
        headers={"If-None-Match": etag, **page.token_header()},
    ) as resp:
        assert resp.status == 304


async def test_command_goes_to_the_bot_signed_and_the_answer_is_ephemeral(page: Page) -> None:
    status, body = await page.post("command", ADMIN.id, channel=SALES, text="/handoff help")
    assert status == 200 and body["ok"]
    [answer] = [m for m in (await page.state(ADMIN.id))["messages"] if m["channel"] == SALES]
    assert answer["ephemeral"] and "/lead" in answer["text"]
    assert not [m for m in (await page.state(REP1.id))["messages"] if m["channel"] == SALES]
    assert page.box.fake.calls == [] or all(c.status == 200 for c in page.box.fake.calls)


async def test_unknown_command_is_refused_like_slack_does(page: Page) -> None:
    status, body = await page.post("command", ADMIN.id, channel=SALES, text="/nosuch thing")
    assert status == 400 and "/nosuch is not a valid command" in body["error"]
    status, body = await page.post("command", ADMIN.id, channel=SALES, text="hello")
    assert status == 400


async def test_someone_elses_dm_is_out_of_reach(page: Page) -> None:
    dm = page.box.fake.im_channel(REP2.id)
    status, body = await page.post("message", REP1.id, channel=dm, text="hi")
    assert status == 400 and "someone else" in body["error"]


async def test_click_claims_the_card_through_the_real_bot(sandbox: Sandbox, page: Page) -> None:
    await add_lead(sandbox)
    [card] = [m for m in (await page.state(REP1.id))["messages"] if m["channel"] == SALES]
    claim = next(
        e
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Claim"
    )
    status, body = await page.post(
        "click",
        REP1.id,
        text="Claim",
        action_id=claim["action_id"],
        block_id=next(b["block_id"] for b in card["blocks"] if b["type"] == "actions"),
        container={"type": "message", "channel": SALES, "ts": card["ts"]},
    )
    assert status == 200, body
    await eventually(sandbox, lambda: sandbox.fake.latest(SALES).edits, "the claim")  # type: ignore[union-attr]
    [card] = [m for m in (await page.state(REP1.id))["messages"] if m["channel"] == SALES]
    assert card["edited"] and any(f"<@{REP1.id}>" in str(b) for b in card["blocks"])


async def test_click_on_a_missing_button_is_a_clear_400(sandbox: Sandbox, page: Page) -> None:
    await add_lead(sandbox)
    card = sandbox.fake.latest(SALES)
    assert card is not None
    status, body = await page.post(
        "click", REP1.id, text="Nope", container={"type": "message", "channel": SALES, "ts": card.ts}
    )
    assert status == 400 and "not found" in body["error"]


async def test_thread_reply_from_a_person(sandbox: Sandbox, page: Page) -> None:
    await add_lead(sandbox)
    card = sandbox.fake.latest(SALES)
    assert card is not None
    status, _ = await page.post("message", REP1.id, channel=SALES, text="on it", thread_ts=card.ts)
    assert status == 200
    msgs = (await page.state(REP1.id))["messages"]
    [reply] = [m for m in msgs if m["is_reply"]]
    assert reply["thread_ts"] == card.ts and reply["user"] == REP1.id
    assert next(m for m in msgs if m["ts"] == card.ts)["reply_count"] == 1


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def upload(box: Sandbox, filename: str, content: bytes) -> str:
    client = AsyncWebClient(token=box.fake.bot_token, base_url=box.fake.base_url)
    got = await client.files_getUploadURLExternal(filename=filename, length=len(content))
    async with aiohttp.ClientSession() as session, session.post(got["upload_url"], data=content) as resp:
        assert resp.status == 200
    await client.files_completeUploadExternal(
        files=[{"id": got["file_id"], "title": filename}],
        channel_id=PARTNERSHIP,
        initial_comment="Weekly chart",
    )
    return got["file_id"]


async def test_uploaded_images_are_shown_and_other_files_downloaded(sandbox: Sandbox, page: Page) -> None:
    png = tiny_png()
    png_id = await upload(sandbox, "digest.png", png)
    svg_id = await upload(sandbox, "chart.svg", b"<svg onload='alert(1)'/>")
    files = [f for m in (await page.state(MARKETER.id))["messages"] for f in m["files"]]
    assert {f["id"]: f["is_image"] for f in files} == {png_id: True, svg_id: False}
    async with page.session.get(f"{sandbox.url}files/{png_id}") as resp:
        assert resp.status == 200 and resp.content_type == "image/png" and await resp.read() == png
    async with page.session.get(f"{sandbox.url}files/{svg_id}") as resp:
        assert resp.content_type == "application/octet-stream"
        assert resp.headers["Content-Disposition"].startswith("attachment")
    async with page.session.get(f"{sandbox.url}files/F404") as resp:
        assert resp.status == 404


async def test_page_is_served_with_a_strict_content_security_policy(sandbox: Sandbox, page: Page) -> None:
    async with page.session.get(sandbox.url) as resp:
        assert resp.status == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "/static/app.js" in await resp.text()
    async with page.session.get(f"{sandbox.url}static/mrkdwn.js") as resp:
        assert resp.status == 200


async def test_messages_survive_a_restart(engine: AsyncEngine, database_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=database_url)
    first = await Sandbox(settings=settings, port=0, state_path=tmp_path / "s.json").start()
    try:
        await add_lead(first)
        await first.driver.command(ADMIN.id, "/handoff", "help", channel_id=SALES)  # type: ignore[union-attr]
    finally:
        await first.stop()
    again = await Sandbox(settings=settings, port=0, state_path=tmp_path / "s.json").start()
    try:
        card = again.fake.latest(SALES)
        assert card is not None and "Jane Doe" in str(card.blocks)
        assert again.fake.ephemerals(ADMIN.id)
        # the card is still the lead's message: a claim edits it in place
        await again.driver.click(REP1.id, "Claim", channel_id=SALES)  # type: ignore[union-attr]
        await eventually(again, lambda: again.fake.latest(SALES).edits, "the card edited in place")  # type: ignore[union-attr]
    finally:
        await again.stop()
    reset = await Sandbox(settings=settings, port=0, state_path=tmp_path / "s.json").start(reset=True)
    try:
        assert reset.fake.latest(SALES) is None
        async with reset.handoff.uow() as uow:  # type: ignore[union-attr]
            assert await uow.session.scalar(select(func.count()).select_from(Lead)) == 0
    finally:
        await reset.stop()


async def test_demo_seed_fills_the_workspace_once(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    box = await Sandbox(
        settings=load_settings(database_url=database_url), port=0, state_path=tmp_path / "s.json"
    ).start(seed=seed_demo)
    try:
        assert box.seeded is True and box.handoff is not None
        async with box.handoff.uow() as uow:
            s = uow.session
            statuses = dict(
                (await s.execute(select(Lead.status, func.count()).group_by(Lead.status))).all()  # type: ignore[arg-type]
            )
            assert sum(statuses.values()) >= 40
            assert {"new", "claimed", "accepted", "rejected", "won"} <= set(statuses)
            assert await s.scalar(select(func.count()).select_from(RoutingRule)) == 3
            assert await s.scalar(select(func.count()).select_from(Target)) >= 7
            assert await s.scalar(select(func.count()).select_from(DiscussionAnswer)) == 3
            rejected = (await s.execute(select(Lead).where(Lead.status == "rejected"))).scalars().all()
            assert all(r.reject_reason and r.quality and r.rejected_at for r in rejected)
            won = (await s.execute(select(Lead).where(Lead.status == "won"))).scalars().all()
            assert all(w.won_amount and w.won_at and w.won_at > w.created_at for w in won)
            oldest = await s.scalar(select(func.min(Lead.created_at)))
            assert box.handoff.clock.now() - oldest > timedelta(days=20)
            assert await s.scalar(select(func.count()).select_from(LeadEvent)) > sum(statuses.values())
        # the last week's cards go out through the real outbox (its background sender is running)
        await eventually(
            box, lambda: any("Claim" in str(m.blocks) for m in box.fake.messages(SALES)), "cards"
        )
        assert await seed_demo(box.handoff, TEAM_ID) is False  # never twice
    finally:
        await box.stop()


@pytest.mark.parametrize(
    "body",
    [b"[" * 5000 + b"]" * 5000, b'{"user":' * 5000 + b"1" + b"}" * 5000, b'{"n":' + b"9" * 5000 + b"}"],
)
async def test_page_api_answers_400_to_json_too_deep_or_too_long_to_parse(page: Page, body: bytes) -> None:
    url = f"{page.box.url}api/command"
    headers = {"Content-Type": "application/json", **page.token_header()}
    async with page.session.post(url, data=body, headers=headers) as resp:
        assert resp.status == 400
        assert await resp.json() == {"ok": False, "error": "expected a JSON body"}


# ---------------------------------------------------------------------- only the page itself may drive it
# A web page on any other origin can make the browser send requests to 127.0.0.1: a "simple" POST
# (text/plain or a form, no preflight) and, after DNS rebinding, same-origin reads under its own Host.

ROUTE_ADD = '/handoff route add "Pwned" channel=#C0MARKETING region=emea'


async def nothing_changed(box: Sandbox) -> None:
    assert box.handoff is not None
    async with box.handoff.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(RoutingRule)) == 0
    assert box.fake.calls == [] and not box.fake.ephemerals(ADMIN.id)


async def test_a_cross_origin_text_plain_post_is_refused_and_changes_nothing(
    sandbox: Sandbox, page: Page
) -> None:
    # what <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) on another site sends
    body = json.dumps({"user": ADMIN.id, "channel": SALES, "text": ROUTE_ADD})
    async with page.session.post(
        f"{sandbox.url}api/command",
        data=body,
        headers={
            "Content-Type": "text/plain",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    ) as resp:
        assert resp.status == 403
        assert (await resp.json())["ok"] is False
    await nothing_changed(sandbox)


async def test_another_origin_or_site_is_refused_even_with_the_token(sandbox: Sandbox, page: Page) -> None:
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # sandboxed iframes, file: pages
        {"Origin": f"http://127.0.0.1:{sandbox.page_port + 1}"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port on 127.0.0.1 is another origin
    ):
        status, body = await page.post("command", ADMIN.id, channel=SALES, text=ROUTE_ADD, headers=headers)
        assert status == 403 and body["ok"] is False, headers
    await nothing_changed(sandbox)


async def test_a_request_without_the_pages_token_is_refused(sandbox: Sandbox, page: Page) -> None:
    for token in (None, "", "wrong", "a-previous-start's-token"):
        status, body = await page.post("command", ADMIN.id, channel=SALES, text=ROUTE_ADD, token=token)
        assert status == 403 and "token" in body["error"]
        async with page.session.get(
            f"{sandbox.url}api/state", params={"user": ADMIN.id}, headers=page.token_header(token)
        ) as resp:
            assert resp.status == 403 and "token" in (await resp.json())["error"]
    await nothing_changed(sandbox)


async def test_any_host_but_the_printed_one_is_refused(sandbox: Sandbox, page: Page) -> None:
    """DNS rebinding: evil.example resolves to 127.0.0.1, so its page reads ours as same-origin —
    but every request it makes says Host: evil.example."""
    port = int(sandbox.url.rstrip("/").rsplit(":", 1)[1])
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"127.0.0.2:{port}", f"0.0.0.0:{port}"):
        for path in ("", "api/state?user=U0ADMIN", "static/app.js", "files/F1"):
            async with page.session.get(f"{sandbox.url}{path}", headers={"Host": host}) as resp:
                assert resp.status == 421, (host, path)
                assert (await resp.json())["ok"] is False
        async with page.session.post(
            f"{sandbox.url}api/command",
            json={"user": ADMIN.id, "channel": SALES, "text": ROUTE_ADD},
            headers={"Host": host},
        ) as resp:
            assert resp.status == 421
    await nothing_changed(sandbox)
    assert sandbox.page_port == port
    # the names it was started under both work
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        async with page.session.get(
            f"{sandbox.url}api/state", params={"user": REP1.id}, headers={"Host": host, **page.token_header()}
        ) as resp:
            assert resp.status == 200, host


async def test_a_form_encoded_post_is_refused_and_changes_nothing(sandbox: Sandbox, page: Page) -> None:
    for content_type, data in (
        ("application/x-www-form-urlencoded", f"user=U0ADMIN&channel=C0SALES&text={ROUTE_ADD}"),
        (
            "multipart/form-data; boundary=x",
            f'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\n{ROUTE_ADD}\r\n--x--\r\n',
        ),
        ("text/plain", '{"user": "U0ADMIN", "channel": "C0SALES", "text": "/handoff help"}'),
        ("", '{"user": "U0ADMIN", "channel": "C0SALES", "text": "/handoff help"}'),
    ):
        # with the token and from the page's own origin: the body's type alone is refused
        async with page.session.post(
            f"{sandbox.url}api/command",
            data=data.encode(),
            headers={"Content-Type": content_type, "Origin": page.origin, **page.token_header()},
        ) as resp:
            assert resp.status == 415, content_type
            assert (await resp.json())["ok"] is False
    await nothing_changed(sandbox)


async def test_the_page_carries_a_fresh_token_and_its_own_requests_pass(sandbox: Sandbox, page: Page) -> None:
    async with page.session.get(sandbox.url, headers={"Sec-Fetch-Site": "none"}) as resp:
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        html = await resp.text()
    assert f'<meta name="handoff-sandbox-token" content="{sandbox.api_token}">' in html
    assert len(sandbox.api_token) >= 32
    # what the browser sends from the page: Origin on POST, Sec-Fetch-Site, the token
    status, body = await page.post(
        "command",
        ADMIN.id,
        channel=SALES,
        text="/handoff help",
        headers={"Origin": page.origin, "Sec-Fetch-Site": "same-origin"},
    )
    assert status == 200 and body["ok"], body
    other = Sandbox(settings=sandbox.base_settings, port=0)
    assert other.api_token != sandbox.api_token


async def test_odd_requests_get_a_json_answer_never_a_500(sandbox: Sandbox, page: Page) -> None:
    odd: list[dict[str, str]] = [
        {"Host": ""},
        {"Host": ":::"},
        {"Host": "127.0.0.1:notaport"},
        {"Origin": "not a url"},
        {"Origin": "http://127.0.0.1:99999999"},
        {"Sec-Fetch-Site": "???"},
        {"Content-Type": "application/json; charset=latin-1"},
        {"X-Handoff-Sandbox-Token": "é"},
    ]
    for headers in odd:
        async with page.session.post(
            f"{sandbox.url}api/command",
            data=b'{"user": "U0ADMIN", "channel": "C0SALES", "text": "/handoff help"}',
            headers={"Content-Type": "application/json", **page.token_header(), **headers},
        ) as resp:
            assert resp.status < 500, headers
            assert "ok" in await resp.json()
