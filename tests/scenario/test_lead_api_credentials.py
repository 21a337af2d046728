"""Lead-API credentials over HTTP: workspace tokens bound to one workspace, made and revoked by
admins in Slack; signed requests carry a fresh timestamp and are accepted once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain.api_tokens import key_id_of, sign, token_hash
from bot.services.api_tokens import create_token
from tests.conftest import (
    ADMIN,
    INTAKE_TOKEN,
    MARKETING,
    PARTNERSHIP,
    REP1,
    SALES,
    RunningBot,
    oauth_settings,
    serve_bot,
)
from tests.scenario.helpers_intake import api, counts
from tests.scenario.test_oauth_install import install

JANE = {"email": "jane@acme.com", "name": "Jane Doe", "source": "webinar"}
TEAM_A, TEAM_B = "T0ALPHA", "T0BRAVO"
TOKEN_PATTERN = re.compile(r"hnd_[A-Za-z0-9_-]{43}")


@pytest.fixture
async def two_workspaces(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    """OAuth mode with two workspaces installed, each with its own sales channel."""
    settings = oauth_settings(
        database_url,
        fake_slack,
        sales_channel="C0SALESX",
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        for team, code in ((TEAM_A, "code-a"), (TEAM_B, "code-b")):
            result = await install(running, team_id=team, token=f"xoxb-{team.lower()}", code=code)
            assert result.startswith("200"), result
        yield running


async def _token(bot: RunningBot, team: str, name: str = "zapier") -> str:
    async with bot.handoff.open_context(team) as ctx:
        return (await create_token(ctx, name, by=ADMIN)).token


def _signed(key: str, raw: bytes, timestamp: str, key_id: str | None = None) -> dict[str, str]:
    headers = {"X-Handoff-Timestamp": timestamp, "X-Handoff-Signature": sign(key, raw, timestamp)}
    if key_id is not None:
        headers["X-Handoff-Key-Id"] = key_id
    return headers


# ---------------------------------------------------------------------------------- item 3


async def test_intake_token_cannot_pick_another_installed_workspace(two_workspaces: RunningBot) -> None:
    """The old door: HANDOFF_INTAKE_TOKEN + team_id wrote into any installed workspace."""
    bot = two_workspaces
    status, body, _ = await api(bot, {"leads": [JANE], "team_id": TEAM_B})
    assert status == 422, body
    assert await counts(bot) == (0, 0, 0)


async def test_unknown_and_foreign_team_ids_get_the_same_answer(two_workspaces: RunningBot) -> None:
    bot = two_workspaces
    token_a = await _token(bot, TEAM_A)
    answers = []
    for token in (INTAKE_TOKEN, token_a):
        for team in (TEAM_B, "T0NEVERINSTALLED"):
            status, body, _ = await api(bot, {"leads": [JANE], "team_id": team}, token=token)
            answers.append((status, body))
            status, body, _ = await api(bot, JANE, token=token, path=f"/api/leads?team_id={team}")
            answers.append((status, body))
    assert {json.dumps(a, sort_keys=True) for a in answers} == {
        json.dumps((422, {"error": "unknown team_id: Handoff is not installed in that workspace"}))
    }
    assert await counts(bot) == (0, 0, 0)


async def test_a_workspace_token_acts_in_its_own_workspace_only(two_workspaces: RunningBot) -> None:
    bot = two_workspaces
    token_a, token_b = await _token(bot, TEAM_A), await _token(bot, TEAM_B)
    status, a_lead, _ = await api(bot, JANE, token=token_a)
    assert status == 201, a_lead
    status, a_again, _ = await api(bot, {"leads": [JANE], "team_id": TEAM_A}, token=token_a)
    assert status == 200 and a_again["duplicate"] == 1
    status, b_lead, _ = await api(bot, JANE, token=token_b)  # same lead, other workspace: new there
    assert status == 201 and b_lead["id"] != a_lead["id"]
    async with bot.handoff.uow() as uow:
        assert (await uow.leads.get(TEAM_A, a_lead["id"])) is not None
        assert (await uow.leads.get(TEAM_B, b_lead["id"])) is not None

    assert (await api(bot, method="GET", path=f"/api/leads/{a_lead['id']}", token=token_a))[0] == 200
    status, body, _ = await api(bot, method="GET", path=f"/api/leads/{a_lead['id']}", token=token_b)
    assert (status, body) == (404, {"error": "no such lead"})
    path = f"/api/leads/{a_lead['id']}?team_id={TEAM_A}"
    status, body, _ = await api(bot, method="GET", path=path, token=token_b)
    assert (status, body) == (422, {"error": "unknown team_id: Handoff is not installed in that workspace"})


async def test_intake_token_is_the_single_workspace_shortcut(bot: RunningBot) -> None:
    status, body, _ = await api(bot, JANE)
    assert status == 201, body
    status, body, _ = await api(bot, {"leads": [JANE], "team_id": bot.fake.team_id})
    assert status == 200 and body["duplicate"] == 1


async def test_with_several_workspaces_the_intake_token_asks_for_a_workspace_token(
    two_workspaces: RunningBot,
) -> None:
    status, body, _ = await api(two_workspaces, JANE)
    assert status == 422 and "handoff tokens create" in body["error"]


async def test_tokens_are_made_listed_and_revoked_by_admins_in_slack(bot: RunningBot) -> None:
    reply = await bot.slack.command(ADMIN, "/handoff", "tokens create zapier")
    [token] = TOKEN_PATTERN.findall(reply.text)
    assert "only once" in reply.text
    posted = [
        m for ch in (SALES, MARKETING, PARTNERSHIP) for m in bot.fake.messages(ch, include_threads=True)
    ]
    assert not any(token in m.text for m in posted)  # the ack is ephemeral: in no channel
    status, body, _ = await api(bot, JANE, token=token)
    assert status == 201, body

    again = await bot.slack.command(ADMIN, "/handoff", "tokens create zapier")
    assert "already" in again.text and not TOKEN_PATTERN.search(again.text)
    bad = await bot.slack.command(ADMIN, "/handoff", "tokens create <!channel>")
    assert "name" in bad.text and not TOKEN_PATTERN.search(bad.text)

    listing = (await bot.slack.command(ADMIN, "/handoff", "tokens list")).text
    assert "zapier" in listing and key_id_of(token) in listing and token not in listing
    assert f"<@{ADMIN}>" in listing and "last used" in listing

    refused = await bot.slack.command(REP1, "/handoff", "tokens create mine")
    assert "Only Handoff admins" in refused.text and not TOKEN_PATTERN.search(refused.text)
    refused = await bot.slack.command(REP1, "/handoff", "tokens revoke zapier")
    assert "Only Handoff admins" in refused.text

    revoked = await bot.slack.command(ADMIN, "/handoff", "tokens revoke zapier")
    assert "Revoked" in revoked.text
    status, body, _ = await api(bot, {**JANE, "email": "joe@acme.com"}, token=token)
    assert (status, body["error"]) == (401, "invalid credentials")
    assert "revoked" in (await bot.slack.command(ADMIN, "/handoff", "tokens list")).text
    missing = await bot.slack.command(ADMIN, "/handoff", "tokens revoke zapier")
    assert "no active token" in missing.text
    # the name is free again once the old token is revoked: rotation keeps the integration's name
    rotated = await bot.slack.command(ADMIN, "/handoff", "tokens create zapier")
    assert TOKEN_PATTERN.search(rotated.text)


async def test_a_wrong_secret_behind_a_real_key_id_is_refused(bot: RunningBot) -> None:
    token = await _token(bot, bot.fake.team_id)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    status, body, _ = await api(bot, JANE, token=forged)
    assert (status, body["error"]) == (401, "invalid credentials")
    assert await counts(bot) == (0, 0, 0)


async def test_last_used_is_written_at_most_once_a_minute(bot: RunningBot) -> None:
    token = await _token(bot, bot.fake.team_id)
    start = bot.clock.now()
    statements: list[str] = []

    from sqlalchemy import event

    def watch(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            statements.append(statement)

    event.listen(bot.handoff.engine.sync_engine, "before_cursor_execute", watch)
    try:
        for i in range(5):
            assert (await api(bot, {**JANE, "email": f"j{i}@acme.com"}, token=token))[0] == 201
        assert len(statements) == 1
        bot.clock.advance(timedelta(seconds=61))
        assert (await api(bot, {**JANE, "email": "later@acme.com"}, token=token))[0] == 201
        assert len(statements) == 2
    finally:
        event.remove(bot.handoff.engine.sync_engine, "before_cursor_execute", watch)
    async with bot.handoff.uow() as uow:
        [row] = await uow.api_tokens.for_team(bot.fake.team_id)
    assert row.last_used_at == start + timedelta(seconds=61)


# ---------------------------------------------------------------------------------- item 4


async def test_a_signature_without_timestamp_is_refused(bot: RunningBot) -> None:
    raw = json.dumps(JANE).encode()
    status, body, _ = await api(
        bot, raw=raw, token=None, headers={"X-Handoff-Signature": sign(INTAKE_TOKEN, raw)}
    )
    assert status == 401 and "X-Handoff-Timestamp" in body["error"]
    assert await counts(bot) == (0, 0, 0)


async def test_a_signed_request_is_accepted_once(bot: RunningBot) -> None:
    raw = json.dumps(JANE).encode()
    now = str(int(bot.clock.now().timestamp()))
    headers = _signed(INTAKE_TOKEN, raw, now)
    assert (await api(bot, raw=raw, token=None, headers=headers))[0] == 201
    bot.clock.advance(timedelta(seconds=30))
    status, body, _ = await api(bot, raw=raw, token=None, headers=headers)
    assert status == 401 and "already" in body["error"]
    # a fresh signature of the same body is a new request (the lead API dedupes the lead itself)
    later = str(int(bot.clock.now().timestamp()))
    assert (await api(bot, raw=raw, token=None, headers=_signed(INTAKE_TOKEN, raw, later)))[0] == 200


async def test_signed_gets_cover_the_path_and_are_accepted_once(bot: RunningBot) -> None:
    _, one, _ = await api(bot, JANE)
    _, two, _ = await api(bot, {**JANE, "email": "joe@acme.com"})
    now = str(int(bot.clock.now().timestamp()))
    first = f"/api/leads/{one['id']}"
    headers = _signed(INTAKE_TOKEN, first.encode(), now)
    assert (await api(bot, method="GET", path=first, token=None, headers=headers))[0] == 200
    # the same second, another lead: its own signature, not a replay
    second = f"/api/leads/{two['id']}"
    signed_two = _signed(INTAKE_TOKEN, second.encode(), now)
    assert (await api(bot, method="GET", path=second, token=None, headers=signed_two))[0] == 200
    # a captured signature neither repeats nor opens another lead
    assert (await api(bot, method="GET", path=first, token=None, headers=headers))[0] == 401
    stolen = _signed(INTAKE_TOKEN, first.encode(), str(int(now) + 1))
    assert (await api(bot, method="GET", path=second, token=None, headers=stolen))[0] == 401


async def test_workspace_tokens_sign_with_their_hash_and_name_their_key(bot: RunningBot) -> None:
    token = await _token(bot, bot.fake.team_id)
    raw = json.dumps(JANE).encode()
    now = str(int(bot.clock.now().timestamp()))
    good = _signed(token_hash(token), raw, now, key_id=key_id_of(token))
    status, body, _ = await api(bot, raw=raw, token=None, headers=good)
    assert status == 201, body
    raw2 = json.dumps({**JANE, "email": "joe@acme.com"}).encode()
    for headers in (
        _signed(token, raw2, now, key_id=key_id_of(token)),  # keyed with the token itself
        _signed(token_hash(token), raw2, now),  # no key ID: read as HANDOFF_INTAKE_TOKEN's
        _signed(token_hash(token), raw2, now, key_id="hnd_unknown0"),
        _signed(INTAKE_TOKEN, raw2, now, key_id=key_id_of(token)),
    ):
        status, body, _ = await api(bot, raw=raw2, token=None, headers=headers)
        assert (status, body["error"]) == (401, "invalid credentials"), headers
    assert (await counts(bot))[0] == 1
