"""After the close (issue 19): customers and their owners, follow-ups that remember themselves.
Everything over signed HTTP, read back as the fake Slack shows it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.jobs import find_job, run_job
from bot.outbox.pacing import Pacer
from bot.sandbox import buttons, visible_text
from bot.sandbox.render import inputs
from bot.storage.models import Account, Followup, Lead
from tests.conftest import ADMIN, MARKETER, MARKETING, PARTNERSHIP, REP1, REP2, SALES, RunningBot
from tests.scenario.helpers_intake import api
from tests.scenario.test_lifecycle import accepted_lead


async def win(bot: RunningBot, **fields: object) -> int:
    lead_id = await accepted_lead(bot, **fields)
    await bot.slack.click(REP1, "Won", channel_id=SALES)
    done = await bot.slack.submit(REP1, {"Deal amount": "12000", "Currency": "EUR"})
    assert done.ok and not done.errors
    await bot.flush()
    return lead_id


async def accounts_of(bot: RunningBot) -> list[Account]:
    async with bot.handoff.uow() as uow:
        return list(await uow.session.scalars(select(Account).order_by(Account.id)))


def ack_text(reply: object) -> str:
    """What the person sees of a command's answer: a plain-text ack, or its text and blocks."""
    body = reply.json  # type: ignore[attr-defined]
    if body is None:
        return str(reply.body)  # type: ignore[attr-defined]
    return str(body.get("text", "")) + "\n" + visible_text(body.get("blocks") or [])


# -- 1. customers and their owners -------------------------------------------------------------


async def test_a_won_lead_makes_a_customer_owned_by_the_closer(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme, Inc.")
    [account] = await accounts_of(bot)
    assert (account.company, account.domain, account.owner_id, account.key) == (
        "Acme, Inc.",
        "acme.com",
        REP1,
        "domain:acme.com",
    )
    listed = await bot.slack.command(REP2, "/lead", "accounts")
    assert "Acme, Inc." in ack_text(listed) and f"<@{REP1}>" in ack_text(listed)
    found = await bot.slack.command(REP2, "/lead", "find acme")
    assert "Customers (1)" in ack_text(found) and "acme.com" in ack_text(found)


async def test_a_second_win_joins_the_account_and_free_mail_makes_none(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await win(bot, email="joe@acme.com", company="ACME Ltd", source="ads")
    await win(bot, email="solo@gmail.com", company=None, source="fair")
    [account] = await accounts_of(bot)
    assert account.won_leads == 2 and account.owner_id == REP1


async def test_only_admins_reassign_an_account(bot: RunningBot) -> None:
    """`/handoff` is escaped (app.yaml), so the typed @rita arrives as Slack's <@U…|rita>."""
    await win(bot, email="jane@acme.com", company="Acme")
    refused = await bot.slack.command(REP2, "/handoff", f"account owner acme <@{REP2}|rita>")
    assert "Only Handoff admins" in ack_text(refused)
    assert (await accounts_of(bot))[0].owner_id == REP1
    done = await bot.slack.command(ADMIN, "/handoff", f"account owner acme.com <@{REP2}|rita>")
    assert f"<@{REP2}> now owns the customer *Acme*" in ack_text(done)
    assert (await accounts_of(bot))[0].owner_id == REP2
    await bot.flush()
    [dm] = bot.fake.dms(REP2)
    assert "made you the owner of the customer *Acme*" in dm.text
    unknown = await bot.slack.command(ADMIN, "/handoff", f"account owner globex <@{REP2}|rita>")
    assert "No customer matches" in ack_text(unknown)


async def test_the_old_lead_account_owner_points_to_handoff_as_real_slack_sends_it(bot: RunningBot) -> None:
    """`/lead` is not escaped: Slack sends `@rita` as typed, no ID; the answer says where to go
    (before, it answered the usage of the very command that had failed)."""
    await win(bot, email="jane@acme.com", company="Acme")
    reply = await bot.slack.command(ADMIN, "/lead", f"account owner acme <@{REP2}|rita>")
    assert "`/handoff account owner <account> @rep`" in ack_text(reply)
    assert (await accounts_of(bot))[0].owner_id == REP1
    assert "Customers (1)" in ack_text(await bot.slack.command(ADMIN, "/lead", "account"))


async def test_quick_add_reads_what_real_slack_sends_an_unescaped_command(bot: RunningBot) -> None:
    """What a person types into `/lead` (the driver turns Slack's escaped forms back into typed
    text, as Slack does for a command with should_escape: false): an email that Slack would have
    linked, a link, a mention and a channel stay plain words in the lead."""
    reply = await bot.slack.command(
        REP1,
        "/lead",
        "<mailto:nia@beta.io|nia@beta.io> Nia Ng, Beta, webinar, <http://beta.io|beta.io> "
        f"asked for <@{REP2}|rita> in <#{SALES}|sales>",
    )
    assert reply.status == 200
    await bot.flush()
    async with bot.handoff.uow() as uow:
        lead = await uow.session.scalar(select(Lead).where(Lead.email == "nia@beta.io"))
    assert lead is not None and (lead.name, lead.company) == ("Nia Ng", "Beta")
    card = visible_text(bot.fake.messages(SALES)[-1].blocks)
    assert "<@" not in card and "<#" not in card and "mailto:" not in card


# -- 5. follow-ups that remember themselves ------------------------------------------------------


FOLLOWUPS = find_job("followups")


async def tick(bot: RunningBot, handoff: object = None) -> None:
    assert FOLLOWUPS is not None
    await run_job(handoff or bot.handoff, FOLLOWUPS, bot.clock.now())  # type: ignore[arg-type]
    await bot.flush()


async def test_followup_command_reminds_once_in_working_hours(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    start = bot.clock.now()  # a Monday, 09:00 UTC
    reply = await bot.slack.command(
        REP1, "/lead", f"followup {lead_id} in 3 days ask about <!channel> budget"
    )
    assert "I'll remind you about lead" in ack_text(reply)
    mine = await bot.slack.command(REP1, "/lead", "mine")
    assert "Upcoming follow-ups" in ack_text(mine) and "ask about &lt;!channel&gt; budget" in ack_text(mine)
    bot.clock.set(start + timedelta(days=2, hours=23))
    await tick(bot)
    assert [m for m in bot.fake.dms(REP1) if "Follow-up" in m.text] == []
    bot.clock.set(start + timedelta(days=3))  # Thursday 09:00: the day's opening
    await tick(bot)
    await tick(bot)
    [dm] = [m for m in bot.fake.dms(REP1) if "Follow-up" in m.text]
    assert f"lead #{lead_id} (Jane Doe, Acme)" in dm.text and "&lt;!channel&gt;" in dm.text


async def test_followup_on_a_weekend_waits_for_monday_opening(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    start = bot.clock.now()
    reply = await bot.slack.command(REP1, "/lead", f"followup {lead_id} 2026-12-05")  # a Saturday
    assert "I'll remind you" in ack_text(reply)
    async with bot.handoff.uow() as uow:
        [row] = list(await uow.session.scalars(select(Followup)))
    assert row.due_at.weekday() == 0 and row.due_at.hour == 9 and row.due_at > start
    bad = await bot.slack.command(REP1, "/lead", f"followup {lead_id} someday")
    assert "Say when" in ack_text(bad)
    other = await bot.slack.command(REP1, "/lead", "followup 9999 tomorrow")
    assert "can't find lead #9999" in ack_text(other)


async def test_remind_me_button_and_form_on_a_customer(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    listed = await bot.slack.command(REP1, "/lead", "accounts")
    assert listed.ok
    await bot.slack.click(REP1, "Remind me")
    view = bot.fake.open_view(REP1)
    assert view is not None and "Remind me" in visible_text(view)
    bad = await bot.slack.submit(REP1, {"When": "whenever"})
    assert bad.errors and "when" in bad.errors
    done = await bot.slack.submit(REP1, {"When": "next monday", "Note": "renewal call"})
    assert done.ok and not done.errors
    await bot.flush()
    assert any("I'll remind you about account" in m.text for m in bot.fake.dms(REP1))
    bot.clock.advance(days=7)
    await tick(bot)
    [dm] = [m for m in bot.fake.dms(REP1) if "Follow-up" in m.text]
    assert "customer Acme" in dm.text and "renewal call" in dm.text


async def test_two_instances_and_a_restart_send_each_reminder_once(
    bot: RunningBot, engine: AsyncEngine
) -> None:
    lead_id = await accepted_lead(bot)
    for when in ("tomorrow", "in 2 days"):
        assert (await bot.slack.command(REP1, "/lead", f"followup {lead_id} {when}")).ok
    bot.clock.advance(days=3)
    other = build_app(
        bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer(rate=1000, burst=1000)
    )
    try:
        assert FOLLOWUPS is not None
        now = bot.clock.now()
        await asyncio.gather(run_job(bot.handoff, FOLLOWUPS, now), run_job(other, FOLLOWUPS, now))
        await other.sender.drain()
    finally:
        await other.close()
    # a restarted instance finds nothing left to send
    restarted = build_app(bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer.unlimited())
    try:
        await tick(bot, restarted)
        await restarted.sender.drain()
    finally:
        await restarted.close()
    await bot.flush()
    assert len([m for m in bot.fake.dms(REP1) if "Follow-up" in m.text]) == 2


# -- 3. field insights to marketing --------------------------------------------------------------


async def test_insight_command_reaches_marketing_tagged_and_linked(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    reply = await bot.slack.command(
        REP1, "/insight", f"lead {lead_id} they balk at the price <!channel> #Pricing"
    )
    assert "Sent to marketing (#pricing)" in ack_text(reply)
    await bot.flush()
    posted = visible_text(bot.fake.latest(MARKETING).to_dict())
    assert f"*Field insight* from <@{REP1}>" in posted and f"lead #{lead_id} Jane Doe" in posted
    assert "&lt;!channel&gt;" in posted and "#pricing" in posted
    usage = await bot.slack.command(REP1, "/insight", "")
    assert "Usage" in ack_text(usage)


async def test_send_to_marketing_message_shortcut_opens_a_form(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    said = bot.fake.post_as_user(SALES, REP1, "Customer says onboarding took three weeks")
    reply = await bot.slack.message_shortcut(REP1, "send_to_marketing", channel_id=SALES, message_ts=said.ts)
    assert reply.ok
    view = bot.fake.open_view(REP1)
    assert view is not None and "Send to marketing" in visible_text(view)
    assert [f["element"].get("initial_value") for f in inputs(view) if f["label"] == "What they said"] == [
        "Customer says onboarding took three weeks"
    ]
    bad = await bot.slack.submit(REP1, {"Lead ID": "abc"})
    assert bad.errors and "lead_ref" in bad.errors
    done = await bot.slack.submit(REP1, {"Tags": "onboarding, #Churn-risk", "Lead ID": str(lead_id)})
    assert done.ok and not done.errors
    await bot.flush()
    posted = visible_text(bot.fake.latest(MARKETING).to_dict())
    assert "onboarding took three weeks" in posted and "#onboarding" in posted and "#churn-risk" in posted
    assert f"/archives/{SALES}/p" in posted  # the link back to the original message


async def test_the_weeks_top_tags_reach_the_digest_section(bot: RunningBot) -> None:
    for text in ("price too high #pricing", "competitor cheaper #pricing #competitor", "slow #onboarding"):
        assert (await bot.slack.command(REP1, "/insight", text)).ok
    async with bot.handoff.uow() as uow:
        from bot.domain.periods import Window
        from bot.services.insights import digest_section

        section = await digest_section(
            uow,
            await bot.handoff.default_team_id() or "",
            Window.last(7, bot.clock.now() + timedelta(seconds=1)),
        )
    assert section is not None and section.startswith("*Field insights this week* (3): #pricing (2)")


def test_the_message_shortcut_is_in_the_manifest() -> None:
    import yaml

    from bot.ids import Shortcut

    manifest = yaml.safe_load(open("app.yaml"))
    declared = {(s["callback_id"], s["type"]) for s in manifest["features"]["shortcuts"]}
    assert declared == {(s.value, "message") for s in Shortcut}


async def test_a_partnership_prompt_quotes_the_weeks_insight_theme(bot: RunningBot) -> None:
    for text in ("too expensive #pricing", "pricing page confusing #pricing", "asked for discount #pricing"):
        assert (await bot.slack.command(REP1, "/insight", text)).ok
    bot.clock.advance(minutes=1)
    reply = await bot.slack.command(MARKETER, "/discuss")
    assert reply.ok
    await bot.flush()
    prompt = visible_text(bot.fake.latest(PARTNERSHIP).to_dict())
    assert "Pricing came up in 3 field insights this week" in prompt


# -- 4. referrals ----------------------------------------------------------------------------------


async def test_a_referral_is_a_lead_credited_to_the_customer_and_counted_in_targets(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    reply = await bot.slack.command(REP1, "/lead", "referral kim@globex.com from acme")
    assert "created, referred by *Acme* and credited to you" in ack_text(reply)
    await bot.flush()
    card = visible_text(bot.fake.latest(SALES).to_dict())
    assert "kim@globex.com" in card and "referral" in card
    again = await bot.slack.command(REP1, "/lead", "referral kim@globex.com from acme")
    assert "already handed over" in ack_text(again)
    same = await bot.slack.command(REP1, "/lead", "referral bob@acme.com from acme")
    assert "someone new" in ack_text(same)
    assert "Usage" in ack_text(await bot.slack.command(REP1, "/lead", "referral kim@globex.com"))
    # referrals and their win rate are target metrics
    bot.clock.advance(minutes=1)
    assert (await bot.slack.command(ADMIN, "/targets", "set referrals 4 month")).ok
    assert (await bot.slack.command(ADMIN, "/targets", "set referral_win_rate 50 month")).ok
    board = ack_text(await bot.slack.command(REP1, "/targets"))
    assert "Referrals" in board and "Referral win rate" in board
    referrals = board.split("*Referrals*", 1)[1].split("\n\n", 1)[0]
    assert " 1 / 4 " in referrals


# -- 2. customer signals to the account owner --------------------------------------------------------


def signal(
    email: str = "kim@acme.com", activity: str = "attended the pricing webinar", **more: object
) -> dict[str, object]:
    return {
        "kind": "signal",
        "email": email,
        "name": "Kim Lee",
        "company": "Acme",
        "activity": activity,
        **more,
    }


def signal_dms(bot: RunningBot, user: str) -> list[object]:
    return [m for m in bot.fake.dms(user) if "Signal" in m.text or "signals on your customers" in m.text]


async def test_a_signal_on_a_customer_goes_to_its_owner_and_the_answer_to_marketing(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    cards_before = len(bot.fake.messages(SALES))
    status, body, _ = await api(bot, signal(activity="attended <!here> webinar", source="webinar"))
    assert (status, body["kind"], body["status"], body["owner"]) == (201, "signal", "sent", REP1)
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == cards_before  # not a new lead
    [card] = signal_dms(bot, REP1)
    shown = visible_text(card.to_dict())
    assert "Signal on your customer Acme" in shown and "Kim Lee (kim@acme.com)" in shown
    assert "&lt;!here&gt;" in shown
    assert [b["text"] for b in buttons(card.blocks)] == [
        "Reach out",
        "Not now",
        "Tell marketing why",
        "Remind me",
    ]
    refused = await bot.slack.click(REP2, "Reach out", channel_id=card.channel)
    assert refused.ok
    assert any("Only the customer's owner" in e.text for e in bot.fake.ephemerals(REP2))
    await bot.slack.click(REP1, "Reach out", channel_id=card.channel)
    await bot.slack.click(REP1, "Not now", channel_id=card.channel)  # already answered: nothing changes
    await bot.flush()
    posted = [visible_text(m.to_dict()) for m in bot.fake.messages(MARKETING)]
    outcomes = [p for p in posted if "will reach out to" in p or "not now for" in p]
    assert outcomes == [
        f":white_check_mark: <@{REP1}> will reach out to Kim Lee (kim@acme.com) at Acme after “attended &lt;!here&gt; webinar”."
    ]


async def test_tell_marketing_why_records_the_reason(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await api(bot, signal())
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    await bot.slack.click(REP1, "Tell marketing why", channel_id=card.channel)
    empty = await bot.slack.submit(REP1, {"Why not now": " "})
    assert empty.errors
    done = await bot.slack.submit(
        REP1, {"Why not now": "Renewal talks next month; they are in budget freeze"}
    )
    assert done.ok and not done.errors
    await bot.flush()
    [posted] = [m for m in bot.fake.messages(MARKETING) if "not now for" in m.text]
    assert "budget freeze" in posted.text


async def test_a_signal_for_an_unknown_company_is_treated_as_a_lead(bot: RunningBot) -> None:
    status, body, _ = await api(
        bot, signal(email="pat@globex.com", company="Globex", activity="started a trial")
    )
    assert (status, body["kind"], body["status"]) == (201, "lead", "created")
    await bot.flush()
    card = visible_text(bot.fake.latest(SALES).to_dict())
    assert "pat@globex.com" in card and "started a trial" in card
    assert signal_dms(bot, REP1) == []


async def test_many_signals_are_batched_per_owner_per_day(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await win(bot, email="ann@initech.com", company="Initech", source="fair")
    for n in range(6):
        company = "Acme" if n % 2 == 0 else "Initech"
        domain = company.lower()
        status, body, _ = await api(
            bot, signal(email=f"p{n}@{domain}.com", company=company, activity=f"guide {n}")
        )
        assert status == 201 and body["kind"] == "signal"
        assert body["status"] == ("sent" if n < 3 else "batched")
    await bot.flush()
    assert len(signal_dms(bot, REP1)) == 3  # the first three a day, one card each
    assert FOLLOWUPS is not None
    batches = find_job("customer_signals")
    assert batches is not None
    await run_job(bot.handoff, batches, bot.clock.now())
    await bot.flush()
    assert len(signal_dms(bot, REP1)) == 3  # held until the day's working hours end
    bot.clock.advance(hours=8)  # 17:00: the day is over
    await asyncio.gather(
        run_job(bot.handoff, batches, bot.clock.now()), run_job(bot.handoff, batches, bot.clock.now())
    )
    await run_job(bot.handoff, batches, bot.clock.now())
    await bot.flush()
    dms = signal_dms(bot, REP1)
    assert len(dms) == 4
    batch = visible_text(dms[-1].to_dict())
    assert "3 signals on your customers today" in batch
    assert "guide 3" in batch and "guide 4" in batch and "guide 5" in batch and "Initech" in batch


# -- 6. the retention section: Home, /targets, the weekly digest ------------------------------------


async def test_retention_section_in_home_targets_and_digest(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await api(bot, signal())
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    bot.clock.advance(hours=2)
    await bot.slack.click(REP1, "Reach out", channel_id=card.channel)
    assert (await bot.slack.command(REP1, "/lead", "referral kim@globex.com from acme")).ok
    assert (await bot.slack.command(REP1, "/insight", "pricing is confusing #pricing")).ok
    bot.clock.advance(minutes=1)
    expected = [
        "Customer signals: 1 of 1 acted on within a day (1 answered)",
        "Referrals: 1",
        "Field insights shared: 1 (other 1)",
        "Top tags: #pricing (1)",
    ]
    await bot.slack.app_home_opened(REP1)
    home = visible_text(bot.fake.home(REP1))
    assert (
        all(line in home for line in expected)
        and "*Customers*" in home
        and "#1 *Acme* · acme.com · owner" in home
    )
    board = ack_text(await bot.slack.command(REP2, "/targets"))
    assert all(line in board for line in expected)
    digest = find_job("weekly_digest")
    assert digest is not None
    await run_job(bot.handoff, digest, bot.clock.now())
    await bot.flush()
    posted = "\n".join(visible_text(m.to_dict()) for m in bot.fake.messages(PARTNERSHIP))
    assert "After the close" in posted and all(line in posted for line in expected)


async def test_a_csv_of_engagement_events_becomes_signals_and_leads(bot: RunningBot) -> None:
    from bot.cli.import_signals_cmd import import_signals_csv

    await win(bot, email="jane@acme.com", company="Acme")
    text = (
        "Email,Name,Company,Activity,Source\n"
        "kim@acme.com,Kim Lee,Acme,Downloaded the security guide,ebook\n"
        "pat@globex.com,Pat,Globex,Started a trial,trial\n"
        "not-an-email,X,Acme,Webinar,webinar\n"
    )
    summary = await import_signals_csv(
        bot.handoff.settings,
        text,
        engine=bot.handoff.engine,
        clock=bot.clock,
        team_id=await bot.handoff.default_team_id(),
    )
    assert (summary.signals, summary.leads, [line for line, _ in summary.invalid]) == (1, 1, [4])
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    assert "Downloaded the security guide" in visible_text(card.to_dict())
    assert "pat@globex.com" in visible_text(bot.fake.latest(SALES).to_dict())


async def test_add_a_referral_from_the_customers_card(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    assert (await bot.slack.command(REP2, "/lead", "accounts")).ok
    await bot.slack.click(REP2, "Add a referral")
    view = bot.fake.open_view(REP2)
    assert view is not None and "Someone *Acme* referred" in visible_text(view)
    bad = await bot.slack.submit(REP2, {"Email": "nope"})
    assert bad.errors and "email" in bad.errors
    done = await bot.slack.submit(REP2, {"Email": "lee@initech.com"})
    assert done.ok and not done.errors
    await bot.flush()
    assert any("referred by *Acme* and credited to you" in m.text for m in bot.fake.dms(REP2))
    async with bot.handoff.uow() as uow:
        made, _, _ = await uow.retention.referral_stats(
            await bot.handoff.default_team_id() or "",
            bot.clock.now() - timedelta(days=1),
            bot.clock.now() + timedelta(days=1),
        )
    assert made == 1
