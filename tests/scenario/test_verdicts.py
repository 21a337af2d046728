"""Sales' verdict from real clicks and modal submissions: accept, reject (with and without a
reason), release, who may do it, and the feedback marketing receives exactly once."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from bot.domain.events import EventKind
from bot.sandbox import buttons, visible_text
from bot.sandbox.render import inputs
from bot.storage.models import Lead, LeadEvent
from tests.conftest import ADMIN, MARKETER, MARKETING, MODES, REP1, REP2, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every scenario here that runs the bot runs it over HTTP and over Socket Mode."""
    return str(request.param)


def options_of(view: object, label: str) -> list[str]:
    [field] = [f for f in inputs(view) if f["label"] == label]
    return [o["text"] for o in field["options"]]


def labels(message: object) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def claimed_lead(bot: RunningBot, user: str = REP1, **fields: object) -> int:
    lead_id = await add_lead(bot, **fields)
    reply = await bot.slack.click(user, "Claim", channel_id=SALES)
    assert reply.ok
    await bot.flush()
    return lead_id


async def load(bot: RunningBot, lead_id: int) -> Lead:
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(await bot.handoff.default_team_id(), lead_id)
        assert lead is not None
        return lead


async def events(bot: RunningBot, lead_id: int) -> list[LeadEvent]:
    async with bot.handoff.uow() as uow:
        return list(
            await uow.session.scalars(
                select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id)
            )
        )


def thread_texts(bot: RunningBot) -> list[str]:
    card = bot.fake.messages(SALES)[0]
    return [m.text for m in bot.fake.thread(SALES, card.ts)]


async def test_accept_opens_modal_and_marketing_hears_once(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    bot.clock.advance(minutes=42)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    view = bot.fake.open_view(REP1)
    assert view is not None and "Accept lead" in visible_text(view)
    reply = await bot.slack.submit(
        REP1, {"Lead quality": "4 — good", "Comment for marketing": "Great fit <!channel> & budget"}
    )
    assert reply.ok and not reply.errors
    assert bot.fake.open_view(REP1) is None
    await bot.flush()

    card = bot.fake.latest(SALES)
    assert f"Accepted* · owner <@{REP1}>" in visible_text(card.blocks)
    assert "quality 4/5" in visible_text(card.blocks)
    assert labels(card.blocks) == [
        "Contacted",
        "Meeting booked",
        "Opportunity",
        "Won",
        "Lost",
        "Details",
        "Remind me",
    ]

    [feedback] = bot.fake.messages(MARKETING)
    shown = visible_text(feedback.to_dict())
    assert "Sales accepted" in shown and "Jane Doe · Acme" in shown
    assert "★★★★☆ 4/5" in shown and f"<@{REP1}>" in shown and "42 min" in shown
    assert "Great fit &lt;!channel&gt; &amp; budget" in shown and "<!channel>" not in shown
    assert any("Sales accepted" in t for t in thread_texts(bot))

    lead = await load(bot, lead_id)
    assert (lead.status, lead.quality, lead.verdict_comment) == (
        "accepted",
        4,
        "Great fit <!channel> & budget",
    )
    assert lead.accepted_at == lead.verdict_at == bot.clock.now()
    kinds = [e.kind for e in await events(bot, lead_id)]
    assert kinds == [EventKind.CREATED, EventKind.CLAIMED, EventKind.ACCEPTED]
    [accepted] = [e for e in await events(bot, lead_id) if e.kind == EventKind.ACCEPTED]
    assert accepted.actor_id == REP1 and accepted.data["quality"] == 4


async def test_replayed_submission_and_double_click_change_nothing(bot: RunningBot) -> None:
    await claimed_lead(bot)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    view = bot.fake.open_view(REP1)
    assert view is not None
    await bot.slack.submit(REP1, {"Lead quality": "5 — excellent"})
    # the same submission arriving again (a replay) and a stale Accept click
    bot.fake.apply_view_ack(REP1, view["id"], None)
    replay = await bot.slack.submit(REP1, {"Lead quality": "1 — poor"}, view_id=view["id"])
    assert replay.ok and not replay.errors
    await bot.flush()
    assert len(bot.fake.messages(MARKETING)) == 1
    assert "5/5" in visible_text(bot.fake.messages(MARKETING)[0].to_dict())
    assert sum("Sales accepted" in t for t in thread_texts(bot)) == 1


async def test_non_owner_clicking_accept_is_refused_and_nothing_changes(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    before = bot.fake.latest(SALES).blocks
    reply = await bot.slack.click(REP2, "Accept", channel_id=SALES)
    assert reply.ok
    await bot.flush()
    assert bot.fake.open_view(REP2) is None
    [refusal] = bot.fake.ephemerals(REP2)
    assert f"Only the lead's owner (<@{REP1}>) or an admin" in refusal.text
    assert bot.fake.latest(SALES).blocks == before
    assert (await load(bot, lead_id)).status == "claimed"
    assert bot.fake.messages(MARKETING) == []


async def test_forged_submission_by_a_non_owner_is_refused_inline(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    view = bot.fake.open_view(REP1)
    assert view is not None
    forged = await bot.slack.submit(REP2, {"Lead quality": "1 — poor"}, view_id=view["id"])
    assert forged.errors and "Only the lead's owner" in forged.errors["quality"]
    await bot.flush()
    assert (await load(bot, lead_id)).status == "claimed"
    assert bot.fake.messages(MARKETING) == []


async def test_admin_may_give_the_verdict_for_the_owner(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(ADMIN, "Accept", channel_id=SALES)
    reply = await bot.slack.submit(ADMIN, {"Lead quality": "3 — fair"})
    assert reply.ok and not reply.errors
    lead = await load(bot, lead_id)
    assert (lead.status, lead.owner_id) == ("accepted", REP1)


async def test_reject_requires_a_reason_then_other_needs_words(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    view = bot.fake.open_view(REP1)
    assert view is not None
    shown = options_of(view, "Reason")
    for reason in (
        "Not our ICP",
        "No budget or authority",
        "Wrong contact",
        "Duplicate",
        "Bad data",
        "Other",
    ):
        assert reason in shown

    missing = await bot.slack.submit(REP1, {"Lead quality": "2 — weak"})
    assert missing.errors == {"reason": "Pick a reason."}
    assert bot.fake.open_view(REP1) is not None  # the modal stays open with the error

    other = await bot.slack.submit(REP1, {"Reason": "Other", "Lead quality": "2 — weak"})
    assert other.errors and "reason_other" in other.errors

    done = await bot.slack.submit(
        REP1, {"Reason": "Other", "If other, what?": "Student <@U0REP1>", "Lead quality": "2 — weak"}
    )
    assert done.ok and not done.errors
    await bot.flush()
    lead = await load(bot, lead_id)
    assert (lead.status, lead.reject_reason, lead.reject_detail, lead.nurture) == (
        "rejected",
        "other",
        "Student <@U0REP1>",
        False,
    )
    [feedback] = bot.fake.messages(MARKETING)
    shown = visible_text(feedback.to_dict())
    assert "Sales rejected" in shown and "Other: Student &lt;@U0REP1&gt;" in shown and "2/5" in shown
    card = bot.fake.latest(SALES)
    assert f"Rejected by <@{REP1}>" in visible_text(card.blocks)
    assert labels(card.blocks) == ["Details"]


async def test_not_ready_goes_to_nurture_and_marketing_can_list_it(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot, email="nina@later.io", name="Nina Later", company="Later Inc")
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    await bot.slack.submit(
        REP1,
        {
            "Reason": "Not ready — recycle to nurture",
            "Lead quality": "3 — fair",
            "Comment for marketing": "Budget next quarter",
        },
    )
    await bot.flush()
    assert (await load(bot, lead_id)).nurture is True
    assert "Flagged for nurture" in visible_text(bot.fake.messages(MARKETING)[0].to_dict())

    reply = await bot.slack.command(MARKETER, "/lead", "nurture")
    assert "Leads to nurture (1)" in reply.text
    assert "Nina Later · Later Inc" in reply.text and "Budget next quarter" in reply.text


async def test_configured_reject_reasons_replace_the_labels(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    async with bot.handoff.uow() as uow:
        await uow.settings.set(
            team, "reject_reasons", {"too_small": "Too small for us"}, by=ADMIN, at=bot.clock.now()
        )
    await claimed_lead(bot)
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    shown = options_of(bot.fake.open_view(REP1), "Reason")
    assert "Too small for us" in shown and "Other" in shown and "Not our ICP" not in shown
    await bot.slack.submit(REP1, {"Reason": "Too small for us", "Lead quality": "2 — weak"})
    await bot.flush()
    assert "Too small for us" in visible_text(bot.fake.messages(MARKETING)[0].to_dict())
    # the card in the sales channel (rendered by the outbox sender) says it the same way
    assert f"Rejected by <@{REP1}>* · Too small for us" in visible_text(bot.fake.latest(SALES).blocks)


async def test_release_gives_the_lead_back_to_the_channel(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    bot.clock.advance(minutes=5)
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await bot.flush()
    card = bot.fake.latest(SALES)
    assert labels(card.blocks)[0] == "Claim"
    assert "Waiting for a claim" in visible_text(card.blocks)
    assert any("released this lead" in t for t in thread_texts(bot))
    lead = await load(bot, lead_id)
    assert (lead.status, lead.owner_id, lead.stage_changed_at) == ("new", None, bot.clock.now())
    assert bot.fake.messages(MARKETING) == []  # a release is no verdict

    await bot.slack.click(REP2, "Claim", channel_id=SALES)
    await bot.flush()
    assert f"Claimed by <@{REP2}>" in visible_text(bot.fake.latest(SALES).blocks)


async def test_only_the_owner_may_release(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(REP2, "Release", channel_id=SALES)
    await bot.flush()
    assert "Only the lead's owner" in bot.fake.ephemerals(REP2)[-1].text
    assert (await load(bot, lead_id)).status == "claimed"


async def test_verdict_buttons_from_a_stale_card_are_explained(bot: RunningBot) -> None:
    await claimed_lead(bot)
    stale = bot.fake.latest(SALES)
    text, blocks = stale.text, copy.deepcopy(stale.blocks)
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await bot.flush()
    # a second copy of the old card (e.g. an un-refreshed client) still shows Accept
    old = bot.fake.post_as_bot(SALES, {"text": text, "blocks": blocks})
    await bot.slack.click(REP1, "Accept", channel_id=SALES, message_ts=old.ts)
    assert "Claim this lead first" in bot.fake.ephemerals(REP1)[-1].text
    assert bot.fake.open_view(REP1) is None


async def test_the_workspaces_reasons_read_the_same_everywhere(bot: RunningBot) -> None:
    """One reader of the `reject_reasons` setting (here as a plain list of labels): the verdict
    form, marketing's feedback, App Home's quality, the lead's details, the partnership prompt's
    fact and the feedback export all say "Too small for us"."""
    from bot.services.discussions import notable_facts
    from bot.services.export import ExportKind, export_to_string

    team = await bot.handoff.default_team_id()
    async with bot.handoff.uow() as uow:
        now = bot.clock.now()
        await uow.settings.set(team, "reject_reasons", ["Too small for us", "Bad timing"], by=ADMIN, at=now)
        await uow.settings.set(team, "discuss_thresholds", {"reason_min": 1}, by=ADMIN, at=now)
    await claimed_lead(bot, source="ads")
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    assert options_of(bot.fake.open_view(REP1), "Reason") == ["Too small for us", "Bad timing", "Other"]
    await bot.slack.submit(REP1, {"Reason": "Too small for us", "Lead quality": "2 — weak"})
    await bot.flush()
    assert "Too small for us" in visible_text(bot.fake.messages(MARKETING)[0].to_dict())

    bot.clock.advance(minutes=5)  # quality counts leads delivered before now
    await bot.slack.app_home_opened(MARKETER)
    assert "rejected for: Too small for us (1)" in visible_text(bot.fake.home(MARKETER))
    await bot.slack.click(MARKETER, "Details", channel_id=SALES)
    details = visible_text(bot.fake.open_view(MARKETER))
    assert "reason: Too small for us" in details and f"*rejected* by <@{REP1}>: Too small for us" in details

    async with bot.handoff.open_context(team, now=bot.clock.now()) as ctx:
        [fact] = await notable_facts(ctx, bot.clock.now())
    assert fact.sentence == "1 of 1 rejections this week were 'Too small for us'"
    async with bot.handoff.uow() as uow:
        csv_text, _ = await export_to_string(
            uow, team, ExportKind.FEEDBACK, "csv", since=None, now=bot.clock.now(), tz=bot.handoff.settings.tz
        )
    assert ",too_small_for_us,Too small for us," in csv_text
