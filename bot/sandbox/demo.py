"""`handoff sandbox --demo`: a realistic workspace, so dashboards and the digest have something to show.

Four weeks of leads with claims, verdicts (quality, reject reasons), sales stages and won amounts, the
routing rules that sent them, this month's and quarter's targets, and a partnership discussion with
answers. Rows go in through the models directly (history cannot be replayed through the UI); the lead
cards of the last week go out through the real outbox, so the bot renders them itself.
Deterministic: the same seed gives the same workspace.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.reasons import NURTURE_REASON, REJECT_REASONS
from bot.sandbox.demo_after_close import seed_after_close
from bot.sandbox.server import ADMIN, MARKETER, MARKETING, PARTNERSHIP, REP1, REP2, SALES
from bot.storage.models import (
    AnswerVote,
    DiscussionAnswer,
    DiscussionPrompt,
    Lead,
    LeadEvent,
    Question,
    RoutingRule,
    Target,
)

if TYPE_CHECKING:
    from bot.app import Handoff

DAYS = 28
LEADS = 44
CARDS_SINCE = timedelta(days=7)  # older leads live in the database only, like scrolled-away history

FIRST = [
    "Jane",
    "Omar",
    "Lena",
    "Tom",
    "Priya",
    "Marco",
    "Sofia",
    "Kenji",
    "Amara",
    "Lucas",
    "Elif",
    "Noah",
    "Chloe",
    "Ivan",
    "Mei",
    "Diego",
    "Hanna",
    "Sam",
    "Nadia",
    "Felix",
    "Ines",
    "Yusuf",
]
LAST = [
    "Doe",
    "Haddad",
    "Berg",
    "Walsh",
    "Raman",
    "Rossi",
    "Lind",
    "Sato",
    "Okafor",
    "Martin",
    "Kaya",
    "Fischer",
    "Dubois",
    "Petrov",
    "Chen",
    "Lopez",
    "Novak",
    "Reed",
    "Aziz",
    "Weber",
]
COMPANIES = [
    ("Acme", "acme.com"),
    ("Globex", "globex.io"),
    ("Initech", "initech.com"),
    ("Umbrella", "umbrella.co"),
    ("Hooli", "hooli.com"),
    ("Stark Industries", "stark.com"),
    ("Wayne Enterprises", "wayne.com"),
    ("Soylent", "soylent.io"),
    ("Tyrell", "tyrell.ai"),
    ("Cyberdyne", "cyberdyne.net"),
    ("Vandelay", "vandelay.com"),
    ("Wonka", "wonka.co.uk"),
    ("Massive Dynamic", "massive.dev"),
    ("Aperture", "aperture.science"),
]
TITLES = [
    "Head of Operations",
    "CTO",
    "VP Sales",
    "IT Manager",
    "Founder",
    "Procurement Lead",
    "Marketing Director",
    "CFO",
    "Data Engineer",
    "Office Manager",
]
SOURCES = [
    ("webinar", "Q-webinar: pipeline hygiene"),
    ("website", None),
    ("partner", "Partner referrals"),
    ("event", "SaaS Summit booth"),
    ("ebook", "Buyer's guide ebook"),
    ("paid_search", "Brand search"),
]
REGIONS = ["EMEA", "EMEA", "NA", "NA", "APAC"]
SEGMENTS = ["Enterprise", "Mid-market", "Mid-market", "SMB"]
# source → how good its leads tend to be (acceptance odds), so "best and worst sources" mean something
SOURCE_QUALITY = {
    "webinar": 0.7,
    "website": 0.55,
    "partner": 0.85,
    "event": 0.6,
    "ebook": 0.35,
    "paid_search": 0.45,
}
REPS = (REP1.id, REP2.id)


async def seed_demo(handoff: Handoff, team_id: str) -> bool:
    """Seed once: False (and nothing written) when the workspace already has leads."""
    async with handoff.uow() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(Lead).where(Lead.team_id == team_id)
        )
    if count:
        return False
    now = handoff.clock.now()
    rng = random.Random(8)
    async with handoff.open_context(team_id) as ctx:
        session = ctx.uow.session
        rules = _rules(team_id, now)
        session.add_all(rules)
        await session.flush()
        for user, side in ((MARKETER.id, "marketing"), (REP1.id, "sales"), (REP2.id, "sales")):
            await ctx.uow.members.upsert(team_id, user, at=now, side=side)
        leads: list[tuple[Lead, list[LeadEvent]]] = []
        for i in range(LEADS):
            leads.append(_lead(rng, team_id, now, i, rules))
        leads.sort(key=lambda pair: pair[0].created_at)
        for lead, events in leads:
            session.add(lead)
            await session.flush()
            for ev in events:
                ev.lead_id = lead.id
            session.add_all(events)
        session.add_all(_targets(team_id, now, await ctx.tz()))
        await _discussion(session, team_id, now)
        await session.flush()
        await seed_after_close(ctx, [lead for lead, _ in leads])
        for lead, _ in leads:
            if now - lead.created_at <= CARDS_SINCE or lead.status in (Status.NEW, Status.CLAIMED):
                await ctx.notifier.post_lead_card(lead)
        await ctx.notifier.post(
            team_id,
            MARKETING,
            ":wave: Demo workspace: four weeks of leads with sales' feedback are loaded. "
            "Hand over a new one with `/lead`, or open Handoff's Home tab.",
        )
    return True


def _rules(team_id: str, now: datetime) -> list[RoutingRule]:
    return [
        RoutingRule(
            team_id=team_id,
            name="Enterprise EMEA",
            priority=10,
            regions=["EMEA"],
            segments=["Enterprise"],
            channel_id=SALES,
            reps=[REP1.id],
            hot_score=80,
            manager_id=ADMIN.id,
            created_at=now,
        ),
        RoutingRule(
            team_id=team_id,
            name="Partner referrals",
            priority=20,
            sources=["partner"],
            channel_id=SALES,
            reps=[REP2.id],
            manager_id=ADMIN.id,
            created_at=now,
        ),
        RoutingRule(
            team_id=team_id,
            name="Everyone else",
            priority=100,
            channel_id=SALES,
            reps=list(REPS),
            manager_id=ADMIN.id,
            created_at=now,
        ),
    ]


def _pick_rule(rules: list[RoutingRule], region: str, segment: str, source: str) -> RoutingRule:
    if region == "EMEA" and segment == "Enterprise":
        return rules[0]
    if source == "partner":
        return rules[1]
    return rules[2]


def _event(team_id: str, kind: str, at: datetime, actor: str | None, **data: Any) -> LeadEvent:
    return LeadEvent(
        team_id=team_id, lead_id=0, kind=kind, actor_id=actor, origin="slack", data=data, created_at=at
    )


def _lead(rng: random.Random, team_id: str, now: datetime, i: int, rules: list[RoutingRule]):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company, domain = rng.choice(COMPANIES)
    source, campaign = rng.choice(SOURCES)
    region, segment = rng.choice(REGIONS), rng.choice(SEGMENTS)
    rule = _pick_rule(rules, region, segment, source)
    # more recent leads are still open; older ones have run their course
    created = now - timedelta(days=rng.uniform(0, DAYS), minutes=rng.randint(0, 600))
    if i < 3:
        created = now - timedelta(hours=rng.uniform(0.2, 5))
    age = now - created
    email = f"{first}.{last}{i}@{domain}".lower()
    lead = Lead(
        team_id=team_id,
        dedupe_key=f"email:{email}",
        email=email,
        name=f"{first} {last}",
        company=company,
        title=rng.choice(TITLES),
        phone=f"+44 20 7946 {rng.randint(1000, 9999)}",
        source=source,
        campaign=campaign,
        score=rng.randint(35, 98),
        region=region,
        segment=segment,
        notes=rng.choice(
            [None, "Asked for a pricing call", "Downloaded the ROI calculator", "Came via a colleague"]
        ),
        fields={},
        submitted_by=MARKETER.id,
        intake_channel="demo",
        status=Status.NEW.value,
        rule_id=rule.id,
        route_reason=f"rule “{rule.name}”",
        channel_id=SALES,
        nurture=False,
        created_at=created,
        updated_at=created,
    )
    events = [_event(team_id, EventKind.CREATED, created, MARKETER.id, rule=rule.name, channel=SALES)]
    lead.assignee_id = rng.choice(rule.reps)
    if age < timedelta(hours=2) and i < 3:
        return lead, events  # brand new, waiting for a claim

    owner = lead.assignee_id if rng.random() < 0.8 else rng.choice(REPS)
    claimed = created + timedelta(minutes=rng.choice([4, 9, 15, 25, 40, 75, 130, 260]))
    if claimed >= now:
        return lead, events
    if claimed - created > timedelta(hours=2):
        events.append(_event(team_id, EventKind.SLA_REMINDER, created + timedelta(hours=2), None))
    lead.status, lead.owner_id, lead.claimed_at = Status.CLAIMED.value, owner, claimed
    events.append(_event(team_id, EventKind.CLAIMED, claimed, owner))
    verdict = claimed + timedelta(hours=rng.uniform(0.5, 30))
    if verdict >= now or (age < timedelta(days=2) and rng.random() < 0.5):
        return lead, events

    quality = max(1, min(5, round(rng.gauss(2 + 3 * SOURCE_QUALITY[source], 0.8))))
    lead.quality, lead.verdict_at = quality, verdict
    if rng.random() > SOURCE_QUALITY[source]:
        reason = rng.choice([r for r in REJECT_REASONS if r != "other"])
        lead.status, lead.rejected_at, lead.reject_reason = Status.REJECTED.value, verdict, reason
        lead.nurture = reason == NURTURE_REASON
        lead.verdict_comment = rng.choice(
            [None, "Too small for us right now", "Student, not a buyer", "Already a customer"]
        )
        events.append(
            _event(
                team_id,
                EventKind.REJECTED,
                verdict,
                owner,
                reason=reason,
                quality=quality,
                comment=lead.verdict_comment,
            )
        )
        lead.updated_at = verdict
        return lead, events
    lead.status, lead.accepted_at = Status.ACCEPTED.value, verdict
    lead.verdict_comment = rng.choice([None, "Good fit, budget confirmed", "Strong intent"])
    events.append(
        _event(team_id, EventKind.ACCEPTED, verdict, owner, quality=quality, comment=lead.verdict_comment)
    )
    when, status = verdict, Status.ACCEPTED
    for stage, column, odds in (
        (Status.CONTACTED, "contacted_at", 0.9),
        (Status.MEETING_BOOKED, "meeting_at", 0.7),
        (Status.OPPORTUNITY, "opportunity_at", 0.6),
    ):
        nxt = when + timedelta(days=rng.uniform(0.3, 3))
        if nxt >= now or rng.random() > odds:
            break
        events.append(
            _event(team_id, EventKind.STAGE, nxt, owner, **{"from": status.value, "to": stage.value})
        )
        setattr(lead, column, nxt)
        when, status = nxt, stage
    lead.status, lead.stage_changed_at, lead.updated_at = status.value, when, when
    if status is Status.OPPORTUNITY and age > timedelta(days=10):
        closed = when + timedelta(days=rng.uniform(1, 5))
        if closed < now:
            if rng.random() < 0.65:
                amount = Decimal(rng.randrange(6_000, 90_000, 500))
                lead.status, lead.won_at, lead.won_amount, lead.currency = (
                    Status.WON.value,
                    closed,
                    amount,
                    "EUR",
                )
                events.append(
                    _event(
                        team_id,
                        EventKind.STAGE,
                        closed,
                        owner,
                        **{"from": status.value, "to": "won"},
                        amount=str(amount),
                        currency="EUR",
                    )
                )
            else:
                lead.status, lead.lost_at = Status.LOST.value, closed
                lead.lost_reason = rng.choice(["Went with a competitor", "Budget frozen", "No decision"])
                events.append(
                    _event(
                        team_id,
                        EventKind.STAGE,
                        closed,
                        owner,
                        **{"from": status.value, "to": "lost"},
                        reason=lead.lost_reason,
                    )
                )
            lead.stage_changed_at = lead.updated_at = closed
    return lead, events


def _targets(team_id: str, now: datetime, tz: Any) -> list[Target]:
    local = now.astimezone(tz).date()
    month = date(local.year, local.month, 1)
    quarter = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    monthly = {
        "leads_delivered": 50,
        "leads_accepted": 28,
        "acceptance_rate": 0.6,
        "median_time_to_claim": 30 * 60,
        "meetings_booked": 12,
        "deals_won": 5,
        "revenue_won": 150_000,
    }
    quarterly = {"leads_delivered": 150, "deals_won": 15, "revenue_won": 450_000}
    out = [
        Target(
            team_id=team_id,
            metric=m,
            period_kind="month",
            period_start=month,
            segment="",
            value=v,
            set_by=ADMIN.id,
            created_at=now,
            updated_at=now,
        )
        for m, v in monthly.items()
    ]
    out += [
        Target(
            team_id=team_id,
            metric=m,
            period_kind="quarter",
            period_start=quarter,
            segment="",
            value=v,
            set_by=ADMIN.id,
            created_at=now,
            updated_at=now,
        )
        for m, v in quarterly.items()
    ]
    return out


async def _discussion(session: Any, team_id: str, now: datetime) -> None:
    questions = [
        ("What one thing would make the leads you get this month easier to work?", "quality"),
        ("Which campaign brought leads that felt ready to talk, and why?", "campaigns"),
        ("Where does a lead most often get stuck between our teams?", "process"),
    ]
    rows = [
        Question(team_id=team_id, text=t, topic=topic, active=True, created_by=ADMIN.id, created_at=now)
        for t, topic in questions
    ]
    session.add_all(rows)
    await session.flush()
    asked = rows[0]
    asked.times_asked, asked.last_asked_at = 1, now - timedelta(days=2)
    prompt = DiscussionPrompt(
        team_id=team_id,
        channel_id=PARTNERSHIP,
        question_id=asked.id,
        text=asked.text,
        fact=None,
        started_by=None,
        opened_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=5),
    )
    session.add(prompt)
    await session.flush()
    answers = [
        (REP1.id, "sales", False, "A line on *why* they converted — the page or the question they asked."),
        (
            MARKETER.id,
            "marketing",
            False,
            "Tell us within a day when a lead is a bad fit, so we can fix the targeting.",
        ),
        (
            None,
            "sales",
            True,
            "Fewer ebook leads, more webinar ones: the webinar people already know the problem.",
        ),
    ]
    saved: list[DiscussionAnswer] = []
    for user, side, anonymous, text in answers:
        ans = DiscussionAnswer(
            team_id=team_id,
            prompt_id=prompt.id,
            user_id=user,
            side=side,
            anonymous=anonymous,
            text=text,
            created_at=now - timedelta(days=1, hours=len(saved)),
        )
        session.add(ans)
        saved.append(ans)
    await session.flush()
    for voter in (REP2.id, ADMIN.id, MARKETER.id):
        session.add(AnswerVote(team_id=team_id, answer_id=saved[2].id, user_id=voter, created_at=now))
    session.add(AnswerVote(team_id=team_id, answer_id=saved[0].id, user_id=MARKETER.id, created_at=now))
