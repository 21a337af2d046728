"""POST /api/leads and GET /api/leads/{id} over HTTP: cards, idempotency, every bad input's answer."""

from __future__ import annotations

import json

from sqlalchemy import update

from bot.handlers.intake_api import sign
from bot.sandbox import buttons, visible_text
from bot.storage.models import Lead, RoutingRule
from tests.conftest import INTAKE_TOKEN, REP1, SALES, make_settings, serve_bot
from tests.scenario.helpers_intake import INJECTIONS, RAW_MARKUP, api, counts, mrkdwn_texts

JANE = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme", "source": "webinar", "score": 80}


async def test_one_lead_becomes_one_card_and_resubmitting_makes_no_second(bot) -> None:
    status, body, _ = await api(bot, {**JANE, "external_id": "hs-1"})
    assert status == 201 and body["status"] == "created" and body["channel_id"] == SALES
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks)
    assert buttons(card.blocks)[0]["text"] == "Claim"

    status, again, _ = await api(bot, {**JANE, "external_id": "hs-1"})
    assert status == 200 and again["status"] == "duplicate" and again["id"] == body["id"]
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1
    [note] = bot.fake.thread(SALES, card.ts)
    assert "Submitted again" in note.text
    assert (await counts(bot))[0] == 1


async def test_same_email_other_source_within_window_attaches(bot) -> None:
    await api(bot, JANE)
    status, body, _ = await api(bot, {**JANE, "source": "ebook"})
    assert status == 200 and body["status"] == "duplicate"
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1
    _, lead, _ = await api(bot, method="GET", path=f"/api/leads/{body['id']}")
    assert [h["kind"] for h in lead["history"]] == ["created", "resubmitted"]


async def test_batch_reports_each_lead_and_bad_ones_do_not_stop_the_rest(bot) -> None:
    leads = [
        {"email": "a@x.io", "name": "A"},
        {"name": "no email"},
        {"email": "not-an-email"},
        {"email": "b@x.io", "score": 500},
        {"email": "c@x.io", "first_name": "Cee", "last_name": "Dee", "fields": {"utm": {"a": 1}}},
        {"email": "a@x.io", "name": "A again"},
        "not an object",
    ]
    status, body, _ = await api(bot, {"leads": leads})
    assert status == 200
    assert (body["created"], body["duplicate"], body["invalid"]) == (2, 1, 4)
    by_index = {r["index"]: r for r in body["results"]}
    assert by_index[1]["errors"] == {"email": "is required"}
    assert "valid email" in by_index[2]["errors"]["email"]
    assert "100" in by_index[3]["errors"]["score"]
    assert by_index[5]["status"] == "duplicate" and by_index[5]["id"] == by_index[0]["id"]
    assert by_index[6]["errors"] == {"lead": "must be a JSON object"}
    leads_n, events_n, outbox_n = await counts(bot)
    assert leads_n == 2 and events_n == 3 and outbox_n == 3  # 2 cards + 1 thread note
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 2
    _, cee, _ = await api(bot, method="GET", path=f"/api/leads/{by_index[4]['id']}")
    assert cee["name"] == "Cee Dee" and cee["fields"] == {"utm": {"a": 1}}


async def test_each_bad_request_gets_its_documented_answer_and_writes_nothing(bot) -> None:
    cases = [
        (dict(body={"name": "x"}), 422, "email"),
        (dict(body={"email": "jane@@acme"}), 422, "email"),
        (dict(body={**JANE, "score": 500}), 422, "score"),
        (dict(raw=b"x" * (2 * 1024 * 1024)), 413, "larger"),
        (dict(body=JANE, token="wrong"), 401, "credentials"),
        (dict(body=JANE, token=None), 401, "missing credentials"),
        (dict(raw=b"{not json", headers={}), 400, "malformed JSON"),
        (dict(raw=b"[1, 2]"), 400, "lead object"),
        (dict(body=JANE, headers={"Content-Type": "text/plain"}), 415, "application/json"),
        (dict(body={"leads": [JANE] * 1001}), 422, "at most 1000"),
        (dict(body={"leads": []}), 422, "empty"),
        (dict(body={"leads": {"email": "a@b.c"}}), 400, "array"),
        (dict(body={"leads": [JANE], "team_id": "T0UNKNOWN"}), 422, "team_id"),
    ]
    for kwargs, want_status, words in cases:
        status, body, _ = await api(bot, **kwargs)
        assert status == want_status, (kwargs.get("body", kwargs.get("raw", b""))[:80], status, body)
        assert words in json.dumps(body), body
    assert await counts(bot) == (0, 0, 0)


async def test_hmac_signature_with_and_without_timestamp(bot) -> None:
    raw = json.dumps(JANE).encode()
    now = str(int(bot.clock.now().timestamp()))
    # without a timestamp a signature would never expire: refused since signed requests must carry one
    undated = {"X-Handoff-Signature": sign(INTAKE_TOKEN, raw)}
    assert (await api(bot, raw=raw, token=None, headers=undated))[0] == 401
    good = {"X-Handoff-Timestamp": now, "X-Handoff-Signature": sign(INTAKE_TOKEN, raw, now)}
    status, _, _ = await api(bot, raw=raw, token=None, headers=good)
    assert status == 201

    raw2 = json.dumps({**JANE, "email": "joe@acme.com"}).encode()
    wrong = {"X-Handoff-Timestamp": now, "X-Handoff-Signature": sign("not-the-token", raw2, now)}
    assert (await api(bot, raw=raw2, token=None, headers=wrong))[0] == 401
    # signature of another body
    tampered = {"X-Handoff-Timestamp": now, "X-Handoff-Signature": sign(INTAKE_TOKEN, raw, now)}
    assert (await api(bot, raw=raw2, token=None, headers=tampered))[0] == 401

    fresh = {"X-Handoff-Timestamp": now, "X-Handoff-Signature": sign(INTAKE_TOKEN, raw2, now)}
    assert (await api(bot, raw=raw2, token=None, headers=fresh))[0] == 201

    raw3 = json.dumps({**JANE, "email": "old@acme.com"}).encode()
    old = str(int(bot.clock.now().timestamp()) - 600)
    stale = {"X-Handoff-Timestamp": old, "X-Handoff-Signature": sign(INTAKE_TOKEN, raw3, old)}
    status, body, _ = await api(bot, raw=raw3, token=None, headers=stale)
    assert status == 401 and "too old" in body["error"]
    assert (await counts(bot))[0] == 2


async def test_unicode_emoji_rtl_and_sql_looking_values_are_kept_literally(bot) -> None:
    odd = [
        {"email": "zoe@example.com", "name": "Zoë Ångström 🚀", "company": "株式会社テスト"},
        {"email": "rtl@example.com", "name": "مريم الحسيني", "company": "\u202eevil\u202c שלום"},
        {"email": "sql@example.com", "name": "Robert'); DROP TABLE lead;--", "company": "1' OR '1'='1"},
    ]
    status, body, _ = await api(bot, {"leads": odd})
    assert status == 200 and body["created"] == 3
    await bot.flush()
    texts = "\n".join(visible_text(m.blocks) for m in bot.fake.messages(SALES))
    for value in (
        "Zoë Ångström 🚀",
        "株式会社テスト",
        "مريم الحسيني",
        "Robert'); DROP TABLE lead;--",
        "1' OR '1'='1",
    ):
        assert value in texts
    assert (await counts(bot))[0] == 3


async def test_markup_in_every_field_renders_literally(bot) -> None:
    status, body, _ = await api(bot, {"email": "inject@acme.com", **INJECTIONS})
    assert status == 201, body
    await bot.flush()
    card = bot.fake.latest(SALES)
    parsed = "\n".join([card.text, *mrkdwn_texts(card.blocks)])
    for raw in RAW_MARKUP:
        assert raw not in parsed, raw
    assert "&lt;!channel&gt; Free money" in card.text


async def test_rate_limit_answers_429_with_retry_after(engine, fake_slack, clock, database_url) -> None:
    settings = make_settings(database_url, fake_slack, intake_rate_limit=2)
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        assert (await api(bot, JANE))[0] == 201
        assert (await api(bot, JANE))[0] == 200
        status, body, headers = await api(bot, JANE)
        assert status == 429 and int(headers["Retry-After"]) >= 1 and "too many" in body["error"]


async def test_rule_routes_to_its_channel_and_get_shows_status_owner_history_feedback(bot) -> None:
    bot.fake.add_channel("C0EMEA", name="emea-sales", members=[REP1])
    async with bot.handoff.uow() as uow:
        await uow.rules.add(
            RoutingRule(
                team_id=bot.fake.team_id,
                name="EMEA",
                priority=1,
                regions=["emea"],
                channel_id="C0EMEA",
                reps=[REP1],
                created_at=bot.clock.now(),
            )
        )
    status, body, _ = await api(bot, {**JANE, "region": "EMEA"})
    assert status == 201 and body["channel_id"] == "C0EMEA" and body["suggested_owner"] == REP1
    await bot.flush()
    assert len(bot.fake.messages("C0EMEA")) == 1 and bot.fake.messages(SALES) == []
    await bot.slack.click(REP1, "Claim", channel_id="C0EMEA")
    await bot.flush()
    async with bot.handoff.uow() as uow:
        await uow.session.execute(
            update(Lead).values(quality=4, verdict_comment="great fit", reject_reason=None)
        )
    status, lead, _ = await api(bot, method="GET", path=f"/api/leads/{body['id']}")
    assert status == 200
    assert lead["status"] == "claimed" and lead["owner_id"] == REP1 and lead["rule"] == "EMEA"
    assert "region is emea" in lead["route_reason"]
    assert [h["kind"] for h in lead["history"]] == ["created", "claimed"]
    assert lead["feedback"]["quality"] == 4 and lead["feedback"]["comment"] == "great fit"


async def test_get_lead_needs_credentials_and_a_real_id(bot) -> None:
    _, body, _ = await api(bot, JANE)
    assert (await api(bot, method="GET", path=f"/api/leads/{body['id']}", token="bad"))[0] == 401
    assert (await api(bot, method="GET", path="/api/leads/999999"))[0] == 404
    assert (await api(bot, method="GET", path="/api/leads/abc"))[0] == 404
    path, now = f"/api/leads/{body['id']}", str(int(bot.clock.now().timestamp()))
    # a signed GET signs its path and query (it has no body), with a timestamp
    signed = {"X-Handoff-Timestamp": now, "X-Handoff-Signature": sign(INTAKE_TOKEN, path.encode(), now)}
    assert (await api(bot, method="GET", path=path, token=None, headers=signed))[0] == 200


async def test_openapi_description_parses_and_lists_the_paths(bot) -> None:
    status, doc, _ = await api(bot, method="GET", path="/api/openapi.json", token=None)
    assert status == 200
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/api/leads", "/api/leads/{lead_id}", "/api/openapi.json"}
    post = doc["paths"]["/api/leads"]["post"]
    assert {"200", "201", "400", "401", "413", "415", "422", "429"} <= set(post["responses"])
    refs = [v for v in _walk(doc) if isinstance(v, str) and v.startswith("#/components/schemas/")]
    assert refs and all(r.rsplit("/", 1)[1] in doc["components"]["schemas"] for r in refs)


def _walk(node: object):
    if isinstance(node, dict):
        for v in node.values():
            yield v
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield v
            yield from _walk(v)


def test_signature_helper_matches_a_known_vector() -> None:
    assert sign("key", b"body") == "sha256=" + __import__("hmac").new(b"key", b"body", "sha256").hexdigest()
    assert sign("key", b"body", "1") != sign("key", b"body")
