"""Property tests: no intake payload and no (correctly signed) Slack interaction payload produces a
500, an unexpected exception or a half-written record."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.domain.errors import InvalidInput
from bot.domain.events import EventKind
from bot.domain.lead_input import parse_lead
from bot.handlers.intake_api import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.services.intake import submit_lead
from bot.storage.models import Lead, LeadEvent, Outbox
from tests.conftest import ADMIN, INTAKE_TOKEN, OUTSIDER, REP1, SALES, RunningBot
from tests.reliability.helpers import add_lead

FIELDS = [
    "email",
    "external_id",
    "name",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "source",
    "campaign",
    "score",
    "region",
    "segment",
    "notes",
    "fields",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["jane@acme.com", " A@B.co ", "<!channel>@x.io", "not-an-email", "", "42", "1e3"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
lead_payloads = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)),
    st.fixed_dictionaries({"email": st.emails()}, optional={k: json_values for k in FIELDS[1:]}),
    json_values,
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def invariants(bot: RunningBot) -> None:
    """Every lead is whole: one "created" event, one card row (or, in bulk, one line in one thread
    message); a claimed lead has its owner."""
    async with bot.handoff.uow() as uow:
        leads = (await uow.session.scalars(select(Lead))).all()
        for lead in leads:
            created = await uow.session.scalar(
                select(func.count(LeadEvent.id)).where(
                    LeadEvent.lead_id == lead.id, LeadEvent.kind == EventKind.CREATED
                )
            )
            cards = await uow.session.scalar(
                select(func.count(Outbox.id)).where(Outbox.lead_id == lead.id, Outbox.purpose == "lead_card")
            )
            claims = await uow.session.scalar(
                select(func.count(LeadEvent.id)).where(
                    LeadEvent.lead_id == lead.id, LeadEvent.kind == EventKind.CLAIMED
                )
            )
            if lead.batch_id is None:
                assert created == 1 and cards == 1, lead.id
            else:  # came in bulk (or in a burst): listed by exactly one thread message, no card
                lists = (
                    await uow.session.scalars(
                        select(Outbox.payload).where(
                            Outbox.ref_table == "lead_batch",
                            Outbox.ref_id == lead.batch_id,
                            Outbox.purpose == "bulk_lines",
                        )
                    )
                ).all()
                listed = sum(list(p.get("lead_ids", [])).count(lead.id) for p in lists)
                assert created == 1 and cards == 0 and listed == 1, lead.id
            assert (lead.status == "claimed") == (lead.owner_id is not None) == (claims == 1)


@FUZZ
@given(payload=lead_payloads)
async def test_any_intake_payload_is_a_lead_or_field_errors_never_a_crash_or_half_a_lead(
    bot: RunningBot, payload: Any
) -> None:
    team = await bot.handoff.default_team_id()
    assert team
    try:
        lead_in = parse_lead(payload)
    except InvalidInput as exc:
        assert exc.errors and all(isinstance(v, str) and v for v in exc.errors.values())
        return
    async with bot.handoff.open_context(team) as ctx:
        result = await submit_lead(ctx, lead_in, origin="api")
    assert result.status in ("created", "duplicate")
    await invariants(bot)


def interaction(draw: Any, lead_id: int, view: bool) -> dict[str, Any]:
    user = draw(st.one_of(st.sampled_from([REP1, ADMIN, OUTSIDER, "", "U0NOBODY"]), st.text(max_size=12)))
    value = draw(
        st.one_of(
            st.just(str(lead_id)),
            st.sampled_from(["", "0", "-1", "99999999999999999999", f"{lead_id}:won", "1;DROP TABLE lead"]),
            st.text(max_size=30),
            st.integers(),
            st.none(),
        )
    )
    action_id = draw(
        st.one_of(
            st.sampled_from(["lead_claim", "lead_details", "lead_stage", "home_page"]), st.text(max_size=20)
        )
    )
    payload: dict[str, Any] = {
        "type": "view_submission" if view else "block_actions",
        "team": draw(st.one_of(st.just({"id": "T0HANDOFF"}), st.just({"id": "T0OTHER"}), json_values)),
        "user": draw(st.one_of(st.just({"id": user, "team_id": "T0HANDOFF"}), json_values)),
        "api_app_id": "A0HANDOFF",
        "token": "x",
        "trigger_id": draw(st.one_of(st.text(max_size=20), st.none())),
    }
    if view:
        payload["view"] = draw(
            st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {
                        "id": st.text(max_size=10),
                        "callback_id": st.one_of(
                            st.sampled_from(["lead_new", "lead_accept_modal", "lead_reject_modal"]),
                            st.text(max_size=10),
                        ),
                        "private_metadata": st.one_of(st.just(str(lead_id)), st.text(max_size=30)),
                        "state": st.one_of(
                            st.just({"values": {}}),
                            st.fixed_dictionaries(
                                {
                                    "values": st.dictionaries(
                                        st.text(max_size=10),
                                        st.dictionaries(st.just("value"), json_values, max_size=1),
                                        max_size=5,
                                    )
                                }
                            ),
                            json_values,
                        ),
                    }
                ),
            )
        )
    else:
        payload["actions"] = draw(
            st.one_of(
                st.just(
                    [{"action_id": action_id, "block_id": "lead_actions", "type": "button", "value": value}]
                ),
                st.lists(json_values, max_size=2),
                json_values,
            )
        )
        payload["container"] = draw(
            st.one_of(st.just({"type": "message", "channel_id": SALES, "message_ts": "1.2"}), json_values)
        )
        payload["channel"] = draw(st.one_of(st.just({"id": SALES}), json_values))
    return payload


@FUZZ
@given(data=st.data())
async def test_any_signed_interaction_payload_gets_no_500_and_leaves_records_whole(
    bot: RunningBot, data: st.DataObject
) -> None:
    async with bot.handoff.uow() as uow:
        lead_id = await uow.session.scalar(select(func.min(Lead.id)))
    if lead_id is None:
        lead_id = await add_lead(bot.handoff)
        await bot.flush()
    view = data.draw(st.booleans())
    payload = data.draw(st.builds(lambda: None)) or interaction(data.draw, lead_id, view)
    raw = data.draw(st.sampled_from(["json", "garbage"]))
    body = json.dumps(payload) if raw == "json" else data.draw(st.text(max_size=200))
    reply = await bot.slack.send_raw(
        urlencode({"payload": body}), content_type="application/x-www-form-urlencoded"
    )
    assert reply.status < 500, (reply.status, reply.body[:200])
    await bot.flush()
    await invariants(bot)


# --- headers and nesting: every shape gets a JSON 4xx, never a 500 (nor a traceback) -------------

# what an HTTP client can put in a header value: any printable text, no line breaks
header_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\r\n"), max_size=40
)


def nested(depth: int, container: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if container == "array" else (b'{"a":' * depth + b"1" + b"}" * depth)


async def post_lead_api(bot: RunningBot, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{bot.url}/api/leads", data=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize("timestamp", ["²", "١٧٠٠٠٠٠٠٠٠", "１２３", "+1700000000", "1e9", "-1"])
async def test_a_signature_timestamp_that_is_not_ascii_digits_is_401_not_500(
    bot: RunningBot, timestamp: str
) -> None:
    body = json.dumps({"email": "ts@acme.com"}).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(INTAKE_TOKEN, body, timestamp),  # signed with the odd timestamp
        TIMESTAMP_HEADER: timestamp,
    }
    status, answer = await post_lead_api(bot, body, headers)
    assert status == 401 and answer == {"error": "X-Handoff-Timestamp must be unix seconds"}


@pytest.mark.parametrize("container", ["array", "object"])
async def test_json_nested_5000_deep_is_400_on_the_lead_api_and_on_slack_events(
    bot: RunningBot, container: str
) -> None:
    body = nested(5000, container)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {INTAKE_TOKEN}"}
    status, answer = await post_lead_api(bot, body, headers)
    assert status == 400 and "nested deeper than 64" in answer["error"]
    event = await bot.slack.send_raw(body, content_type="application/json")
    assert event.status == 400 and event.json == {"error": "malformed payload"}
    click = await bot.slack.send_raw(
        urlencode({"payload": body.decode()}), content_type="application/x-www-form-urlencoded"
    )
    assert click.status == 400 and click.json == {"error": "malformed payload"}


@FUZZ
@given(
    authorization=st.one_of(st.none(), header_text, header_text.map(lambda t: f"Bearer {t}")),
    signature=st.one_of(st.none(), header_text, header_text.map(lambda t: f"sha256={t}")),
    timestamp=st.one_of(
        st.none(), header_text, st.integers().map(str), st.sampled_from(["²", "١٢", "１２", "+1", "1_0"])
    ),
    content_type=st.one_of(st.just("application/json"), header_text),
    sign_it=st.booleans(),
)
async def test_any_lead_api_headers_get_a_json_answer_never_a_500(
    bot: RunningBot,
    authorization: str | None,
    signature: str | None,
    timestamp: str | None,
    content_type: str,
    sign_it: bool,
) -> None:
    body = json.dumps({"email": "headers@acme.com"}).encode()
    if sign_it:
        signature = sign(INTAKE_TOKEN, body, timestamp)
    headers = {"Content-Type": content_type}
    for name, value in (
        ("Authorization", authorization),
        (SIGNATURE_HEADER, signature),
        (TIMESTAMP_HEADER, timestamp),
    ):
        if value is not None:
            headers[name] = value
    status, answer = await post_lead_api(bot, body, headers)
    assert status in (200, 201, 401, 415), (status, answer)
    assert isinstance(answer, dict) and (status < 400 or isinstance(answer["error"], str))
    await invariants(bot)


@FUZZ
@given(
    depth=st.integers(min_value=1, max_value=6000),
    container=st.sampled_from(["array", "object"]),
    wrap=st.sampled_from(["bare", "lead", "batch"]),
)
async def test_any_nesting_on_the_lead_api_and_slack_events_is_an_answer_never_a_500(
    bot: RunningBot, depth: int, container: str, wrap: str
) -> None:
    inner = nested(depth, container)
    body = {
        "bare": inner,
        "lead": b'{"email":"deep@acme.com","fields":{"x":' + inner + b"}}",
        "batch": b'{"leads":[{"email":"deep@acme.com","notes":' + inner + b"}]}",
    }[wrap]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {INTAKE_TOKEN}"}
    status, answer = await post_lead_api(bot, body, headers)
    assert status < 500 and isinstance(answer, dict), (status, answer)
    if depth > 64:
        assert status == 400 and "nested deeper" in answer["error"]
    event = await bot.slack.send_raw(body, content_type="application/json")
    assert event.status < 500, (event.status, event.body[:200])
    await invariants(bot)
