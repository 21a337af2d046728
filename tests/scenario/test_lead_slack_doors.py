"""/lead (form and quick add) and the card's buttons, driven over HTTP against the fake Slack."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox import buttons, visible_text
from bot.storage.models import Lead, RoutingRule
from tests.conftest import ADMIN, MARKETER, MARKETING, MODES, OUTSIDER, REP1, REP2, SALES, RunningBot
from tests.scenario.helpers_intake import INJECTIONS, RAW_MARKUP, api, counts, mrkdwn_texts


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every scenario here that runs the bot runs it over HTTP and over Socket Mode."""
    return str(request.param)


FORM = {"Email": "jane@acme.com", "Name": "Jane Doe", "Company": "Acme", "Source": "Webinar", "Score": "80"}


async def open_form(bot: RunningBot, user: str = MARKETER) -> dict:
    reply = await bot.slack.command(user, "/lead", "", channel_id=MARKETING)
    assert reply.status == 200
    view = bot.fake.open_view(user)
    assert view is not None and view["title"]["text"] == "Hand over a lead"
    return view


async def test_form_hands_over_a_lead_as_one_card_and_dms_the_submitter(bot: RunningBot) -> None:
    await open_form(bot)
    reply = await bot.slack.submit(MARKETER, FORM)
    assert reply.status == 200 and not reply.errors
    assert bot.fake.open_view(MARKETER) is None
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks)
    assert buttons(card.blocks)[0]["text"] == "Claim"
    [dm] = bot.fake.dms(MARKETER)
    assert "on its way to <#C0SALES>" in dm.text

    await open_form(bot)
    await bot.slack.submit(MARKETER, FORM)
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1
    assert "already handed over" in bot.fake.dms(MARKETER)[-1].text
    assert "Submitted again" in bot.fake.thread(SALES, card.ts)[0].text


async def test_form_errors_come_back_inline_and_nothing_is_written(bot: RunningBot) -> None:
    cases = [
        ({**FORM, "Email": None}, "email", "required"),
        ({**FORM, "Email": "jane@"}, "email", "valid email"),
        ({**FORM, "Score": "500"}, "score", "100"),
        ({**FORM, "Score": "lots"}, "score", "whole number"),
        ({**FORM, "Phone": "call me maybe"}, "phone", "phone number"),
        ({**FORM, "Source": "Other (type it below)"}, "source_other", "Say what the source is"),
    ]
    for values, block, words in cases:
        await open_form(bot)
        reply = await bot.slack.submit(MARKETER, values)
        assert reply.errors and block in reply.errors and words in reply.errors[block], (values, reply.errors)
        assert bot.fake.open_view(MARKETER) is not None  # the form stays open with the errors
    assert await counts(bot) == (0, 0, 0)


async def test_form_other_source_is_the_typed_text(bot: RunningBot) -> None:
    await open_form(bot)
    await bot.slack.submit(MARKETER, {**FORM, "Source": "Other (type it below)", "Other source": "Podcast"})
    async with bot.handoff.uow() as uow:
        lead = await uow.session.scalar(select(Lead))
    assert lead is not None and lead.source == "podcast" and lead.submitted_by == MARKETER


async def test_form_and_quick_add_render_markup_literally(bot: RunningBot) -> None:
    await open_form(bot)
    form = {"Email": "x@acme.com", "Other source": INJECTIONS["source"]}
    labels = {"name": "Name", "company": "Company", "title": "Title", "campaign": "Campaign"}
    form.update({labels[k]: INJECTIONS[k] for k in labels})
    form.update(
        {
            "Region": INJECTIONS["region"],
            "Segment": INJECTIONS["segment"],
            "Notes for sales": INJECTIONS["notes"],
        }
    )
    reply = await bot.slack.submit(MARKETER, form)
    assert not reply.errors, reply.errors
    # Slack escapes &, <, > in command text; the quick add must show them as typed, not as markup
    await bot.slack.command(
        MARKETER, "/lead", "y@acme.com &lt;!channel&gt; Free, &lt;@U0REP1&gt;", channel_id=MARKETING
    )
    await bot.flush()
    cards = bot.fake.messages(SALES)
    assert len(cards) == 2, [e.text for e in bot.fake.ephemerals()]
    for message in [*cards, *bot.fake.dms(MARKETER)]:
        parsed = "\n".join([message.text, *mrkdwn_texts(message.blocks)])
        # the confirmation DM links the sales channel itself: that one link is ours
        parsed = parsed.replace("on its way to <#C0SALES>", "")
        for raw in RAW_MARKUP:
            assert raw not in parsed, (raw, parsed)
    assert "&lt;!channel&gt; Free" in cards[1].text
    quick_reply = bot.fake.ephemerals(MARKETER)[-1].text
    assert "<!channel>" not in quick_reply and "&lt;!channel&gt;" in quick_reply


async def test_quick_add_creates_then_recognises_a_duplicate(bot: RunningBot) -> None:
    reply = await bot.slack.command(
        MARKETER, "/lead", "jane@acme.com Jane Doe, Acme, webinar", channel_id=MARKETING
    )
    assert "on its way to <#C0SALES>" in reply.text
    reply = await bot.slack.command(
        MARKETER, "/lead", "jane@acme.com Jane Doe, Acme, webinar", channel_id=MARKETING
    )
    assert "already handed over" in reply.text
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks) and "webinar" in visible_text(card.blocks)
    assert (await counts(bot))[0] == 1


async def test_quick_add_bad_text_gets_usage_or_field_errors_and_writes_nothing(bot: RunningBot) -> None:
    reply = await bot.slack.command(MARKETER, "/lead", "Jane Doe from Acme", channel_id=MARKETING)
    assert "no email address found" in reply.text and "/lead jane@acme.com" in reply.text
    reply = await bot.slack.command(MARKETER, "/lead", "jane@acme.com score=500", channel_id=MARKETING)
    assert "score" in reply.text and "100" in reply.text
    reply = await bot.slack.command(MARKETER, "/lead", "jane@ Jane", channel_id=MARKETING)
    assert "email" in reply.text
    assert await counts(bot) == (0, 0, 0)


async def test_unicode_rtl_and_sql_looking_names_through_slack(bot: RunningBot) -> None:
    await bot.slack.command(
        MARKETER, "/lead", "rtl@x.io مريم الحسيني 🚀, Robert'); DROP TABLE lead;--", channel_id=MARKETING
    )
    await bot.flush()
    text = visible_text(bot.fake.latest(SALES).blocks)
    assert "مريم الحسيني 🚀" in text and "Robert'); DROP TABLE lead;--" in text


async def test_why_here_and_details(bot: RunningBot) -> None:
    bot.fake.add_channel("C0ENT", name="enterprise", members=[REP1])
    async with bot.handoff.uow() as uow:
        await uow.rules.add(
            RoutingRule(
                team_id=bot.fake.team_id,
                name="Enterprise <!here>",
                priority=5,
                segments=["enterprise"],
                score_min=50,
                channel_id="C0ENT",
                created_at=bot.clock.now(),
            )
        )
    await api(
        bot,
        {
            "email": "big@corp.com",
            "name": "Big",
            "segment": "Enterprise",
            "score": 90,
            "fields": {"crm": "<!channel>"},
        },
    )
    await bot.flush()
    assert "rule: Enterprise &lt;!here&gt;" in visible_text(bot.fake.latest("C0ENT").blocks)

    await bot.slack.click(REP1, "Why here?", channel_id="C0ENT")
    why = bot.fake.ephemerals(REP1)[-1].text
    assert "segment is enterprise" in why and "score 90 is within 50–100" in why
    assert "<!here>" not in why and "&lt;!here&gt;" in why

    await bot.slack.click(REP1, "Details", channel_id="C0ENT")
    view = bot.fake.open_view(REP1)
    assert view is not None and view["title"]["text"] == "Lead details"
    text = visible_text(view)
    assert "big@corp.com" in text and "created" in text and "&lt;!channel&gt;" in text
    assert "<!channel>" not in "\n".join(mrkdwn_texts(view.get("blocks")))


async def test_not_for_us_hands_the_lead_back_to_marketing(bot: RunningBot) -> None:
    await api(bot, {"email": "student@uni.edu", "name": "Stu <@U0ADMIN>"})
    await bot.flush()
    await bot.slack.click(REP1, "Not for us", channel_id=SALES)
    assert bot.fake.open_view(REP1)["title"]["text"] == "Not for us"
    reply = await bot.slack.submit(REP1, {"Why is it not for sales?": None})
    assert reply.errors and "reason" in reply.errors
    reply = await bot.slack.submit(REP1, {"Why is it not for sales?": "A student <!channel>"})
    assert not reply.errors
    await bot.flush()
    card = bot.fake.latest(SALES)
    assert "Handed back to marketing" in visible_text(card.blocks)
    assert "Claim" not in [b["text"] for b in buttons(card.blocks)]
    [note] = bot.fake.messages(MARKETING)
    assert f"<@{REP1}> handed" in note.text and "A student &lt;!channel&gt;" in note.text
    assert "Stu &lt;@U0ADMIN&gt;" in note.text
    _, lead, _ = await api(bot, method="GET", path="/api/leads/1")
    assert lead["status"] == "returned"
    assert [h["kind"] for h in lead["history"]] == ["created", "returned"]
    assert lead["history"][1]["data"]["reason"] == "A student <!channel>"


async def test_a_late_claim_on_a_returned_lead_says_what_happened(bot: RunningBot) -> None:
    await api(bot, {"email": "student@uni.edu"})
    await bot.flush()
    await bot.slack.click(REP1, "Not for us", channel_id=SALES)
    # Rita has the card open with its Claim button while Rob hands the lead back
    card = bot.fake.latest(SALES)
    assert card is not None
    stale = [dict(b) for b in card.blocks]
    await bot.slack.submit(REP1, {"Why is it not for sales?": "A student"})
    await bot.flush()
    fresh = card.blocks
    card.blocks = stale  # what Rita's client still shows
    try:
        await bot.slack.click(REP2, "Claim", channel_id=SALES)
    finally:
        card.blocks = fresh
    [answer] = bot.fake.ephemerals(REP2)
    assert "nobody" not in answer.text and "Returned to marketing" in answer.text


async def test_not_for_us_refuses_outsiders_and_claimed_leads(bot: RunningBot) -> None:
    await api(bot, {"email": "a@b.co"})
    await bot.flush()
    await bot.slack.click(OUTSIDER, "Not for us", channel_id=SALES)
    assert "Only members of" in bot.fake.ephemerals(OUTSIDER)[-1].text
    assert bot.fake.open_view(OUTSIDER) is None
    # the button on a card someone else claimed in the meantime
    await bot.slack.click(ADMIN, "Not for us", channel_id=SALES)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    reply = await bot.slack.submit(ADMIN, {"Why is it not for sales?": "nope"})
    assert reply.errors and "Claimed" in reply.errors["reason"]
    await bot.flush()
    assert bot.fake.messages(MARKETING) == []


async def test_card_to_a_missing_channel_keeps_the_lead_and_alerts_admins(bot: RunningBot) -> None:
    async with bot.handoff.uow() as uow:
        await uow.rules.add(
            RoutingRule(
                team_id=bot.fake.team_id,
                name="Gone",
                priority=1,
                channel_id="C0GONE",
                created_at=bot.clock.now(),
            )
        )
    status, body, _ = await api(bot, {"email": "kept@acme.com"})
    assert status == 201
    await bot.flush()
    [alert] = bot.fake.dms(ADMIN)
    assert "channel_not_found" in alert.text and "The lead is safe" in alert.text
    _, lead, _ = await api(bot, method="GET", path=f"/api/leads/{body['id']}")
    assert lead["status"] == "new" and lead["channel_id"] == "C0GONE" and lead["message_ts"] is None
