"""A small, hand-countable history of leads for the reporting tests (targets, home, digest, export).

Rows are inserted directly with explicit timestamps, so the tests depend only on the schema.
The expected numbers in the docstrings of the tests are counted from the table below by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_session_factory
from bot.storage.models import Lead, LeadEvent

REP1, REP2 = "U0REP1", "U0REP2"
# 2026-03-16 12:00 UTC: half of March (15.5 of 31 days) has passed
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """'03-02 10:00' → 2026-03-02 10:00 UTC; a 'YYYY-' prefix picks another year."""
    if text.count("-") == 1:
        text = "2026-" + text
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def lead_row(team_id: str, n: int, created: str, status: str, **kw: Any) -> Lead:
    times = {k: at(v) for k, v in kw.items() if k.endswith("_at") and isinstance(v, str)}
    plain = {k: v for k, v in kw.items() if not (k.endswith("_at") and isinstance(v, str))}
    created_at = at(created)
    last = max([created_at, *times.values()])
    return Lead(
        team_id=team_id,
        dedupe_key=f"lead{n}@example.com",
        email=f"lead{n}@example.com",
        name=f"Lead {n}",
        company=f"Company {n}",
        status=status,
        intake_channel="api",
        created_at=created_at,
        updated_at=last,
        fields={},
        nurture=False,
        **times,
        **plain,
    )


def history(team_id: str) -> list[Lead]:
    """Six March leads, two February leads, one December lead (see test docstrings)."""
    usd = {"currency": "USD"}
    return [
        lead_row(
            team_id,
            1,
            "03-02 10:00",
            "won",
            source="webinar",
            campaign="spring",
            segment="enterprise",
            owner_id=REP1,
            claimed_at="03-02 10:10",
            verdict_at="03-02 12:00",
            accepted_at="03-02 12:00",
            quality=5,
            meeting_at="03-05 10:00",
            won_at="03-10 10:00",
            won_amount=Decimal("1000"),
            **usd,
        ),
        lead_row(
            team_id,
            2,
            "03-03 09:00",
            "meeting_booked",
            source="webinar",
            campaign="spring",
            segment="smb",
            owner_id=REP1,
            claimed_at="03-03 09:30",
            verdict_at="03-04 09:00",
            accepted_at="03-04 09:00",
            quality=4,
            meeting_at="03-12 09:00",
        ),
        lead_row(
            team_id,
            3,
            "03-04 09:00",
            "rejected",
            source="ads",
            campaign="brand",
            segment="smb",
            owner_id=REP2,
            claimed_at="03-04 10:00",
            verdict_at="03-04 11:00",
            rejected_at="03-04 11:00",
            quality=2,
            reject_reason="not_icp",
        ),
        lead_row(
            team_id,
            4,
            "03-05 09:00",
            "accepted",
            source="ads",
            campaign="brand",
            segment="enterprise",
            owner_id=REP1,
            claimed_at="03-05 11:00",
            verdict_at="03-06 09:00",
            accepted_at="03-06 09:00",
            quality=3,
        ),
        lead_row(team_id, 5, "03-10 09:00", "new", source="ads", segment="smb"),
        lead_row(
            team_id, 6, "03-14 09:00", "claimed", source="referral", owner_id=REP1, claimed_at="03-14 09:05"
        ),
        lead_row(
            team_id,
            7,
            "02-20 09:00",
            "won",
            source="webinar",
            campaign="winter",
            owner_id=REP2,
            claimed_at="02-20 09:20",
            verdict_at="02-21 09:00",
            accepted_at="02-21 09:00",
            quality=4,
            won_at="03-08 09:00",
            won_amount=Decimal("500"),
            **usd,
        ),
        lead_row(
            team_id,
            8,
            "02-25 09:00",
            "rejected",
            source="ads",
            campaign="brand",
            owner_id=REP2,
            claimed_at="02-25 09:15",
            verdict_at="02-26 09:00",
            rejected_at="02-26 09:00",
            quality=1,
            reject_reason="no_budget",
        ),
        lead_row(
            team_id,
            9,
            "2025-12-10 09:00",
            "won",
            source="webinar",
            owner_id=REP1,
            claimed_at="2025-12-10 09:30",
            verdict_at="2025-12-11 09:00",
            accepted_at="2025-12-11 09:00",
            won_at="2025-12-20 09:00",
            won_amount=Decimal("9999"),
            **usd,
        ),
    ]


async def insert_history(engine: AsyncEngine, team_id: str) -> list[Lead]:
    leads = history(team_id)
    async with make_session_factory(engine)() as session, session.begin():
        session.add_all(leads)
        await session.flush()
        # SLA breaches: two in the last week (03-09..03-16), one in the week before
        for lead_idx, kind, when in (
            (4, "sla_reminder", "03-10 09:30"),
            (5, "sla_verdict_nudge", "03-15 09:00"),
            (2, "sla_reminder", "03-04 09:30"),
            (0, "sla_escalated", "03-11 09:00"),  # an escalation is not a breach of its own
        ):
            session.add(
                LeadEvent(
                    team_id=team_id,
                    lead_id=leads[lead_idx].id,
                    kind=kind,
                    origin="scheduler",
                    data={},
                    created_at=at(when),
                )
            )
    return leads
