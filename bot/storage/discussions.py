"""Queries for partnership discussions: the question bank, prompts, answers, votes, and the week's
aggregates that data-driven prompts are made of. Every query is scoped by team_id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import EventKind
from bot.domain.prompts import GroupStat
from bot.storage.models import (
    AnswerVote,
    DiscussionAnswer,
    DiscussionPrompt,
    Lead,
    LeadEvent,
    Outbox,
    Question,
)
from bot.storage.repositories import affected, insert_ignore

PROMPT_TABLE = "discussion_prompt"
ANSWER_TABLE = "discussion_answer"


@dataclass(frozen=True)
class AnswerRow:
    answer: DiscussionAnswer
    votes: int


class DiscussionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ question bank

    async def question_count(self, team_id: str) -> int:
        return int(
            await self.session.scalar(select(func.count(Question.id)).where(Question.team_id == team_id)) or 0
        )

    async def add_question(self, question: Question) -> Question:
        self.session.add(question)
        await self.session.flush()
        return question

    async def active_questions(self, team_id: str) -> list[Question]:
        stmt = (
            select(Question)
            .where(Question.team_id == team_id, Question.active.is_(True))
            .order_by(Question.id)
        )
        return list(await self.session.scalars(stmt))

    async def question(self, team_id: str, question_id: int) -> Question | None:
        return await self.session.scalar(
            select(Question).where(Question.team_id == team_id, Question.id == question_id)
        )

    # ------------------------------------------------------------------ prompts

    async def add_prompt(self, prompt: DiscussionPrompt) -> DiscussionPrompt:
        self.session.add(prompt)
        await self.session.flush()
        return prompt

    async def prompt(self, team_id: str, prompt_id: int) -> DiscussionPrompt | None:
        return await self.session.scalar(
            select(DiscussionPrompt).where(
                DiscussionPrompt.team_id == team_id, DiscussionPrompt.id == prompt_id
            )
        )

    async def latest_prompt(
        self, team_id: str, *, channel_id: str | None = None, since: datetime | None = None
    ) -> DiscussionPrompt | None:
        stmt = select(DiscussionPrompt).where(DiscussionPrompt.team_id == team_id)
        if channel_id:
            stmt = stmt.where(DiscussionPrompt.channel_id == channel_id)
        if since is not None:
            stmt = stmt.where(DiscussionPrompt.opened_at >= since)
        stmt = stmt.order_by(DiscussionPrompt.opened_at.desc(), DiscussionPrompt.id.desc()).limit(1)
        return await self.session.scalar(stmt)

    async def latest_recapped(self, team_id: str, *, since: datetime) -> DiscussionPrompt | None:
        stmt = (
            select(DiscussionPrompt)
            .where(
                DiscussionPrompt.team_id == team_id,
                DiscussionPrompt.recapped_at.is_not(None),
                DiscussionPrompt.recapped_at >= since,
            )
            .order_by(DiscussionPrompt.recapped_at.desc(), DiscussionPrompt.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def due_for_recap(self, team_id: str, now: datetime, limit: int = 20) -> list[int]:
        stmt = (
            select(DiscussionPrompt.id)
            .where(
                DiscussionPrompt.team_id == team_id,
                DiscussionPrompt.recapped_at.is_(None),
                DiscussionPrompt.closes_at <= now,
            )
            .order_by(DiscussionPrompt.closes_at)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def mark_recapped(self, team_id: str, prompt_id: int, now: datetime) -> bool:
        """Compare-and-set: exactly one instance recaps a prompt."""
        result = await self.session.execute(
            update(DiscussionPrompt)
            .where(
                DiscussionPrompt.team_id == team_id,
                DiscussionPrompt.id == prompt_id,
                DiscussionPrompt.recapped_at.is_(None),
            )
            .values(recapped_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    # ------------------------------------------------------------------ answers and votes

    async def add_answer(self, answer: DiscussionAnswer) -> DiscussionAnswer:
        self.session.add(answer)
        await self.session.flush()
        return answer

    async def answer(self, team_id: str, answer_id: int) -> DiscussionAnswer | None:
        return await self.session.scalar(
            select(DiscussionAnswer).where(
                DiscussionAnswer.team_id == team_id, DiscussionAnswer.id == answer_id
            )
        )

    async def answers_with_votes(self, team_id: str, prompt_id: int) -> list[AnswerRow]:
        votes = (
            select(AnswerVote.answer_id, func.count(AnswerVote.id).label("n"))
            .where(AnswerVote.team_id == team_id)
            .group_by(AnswerVote.answer_id)
            .subquery()
        )
        stmt = (
            select(DiscussionAnswer, func.coalesce(votes.c.n, 0))
            .outerjoin(votes, votes.c.answer_id == DiscussionAnswer.id)
            .where(DiscussionAnswer.team_id == team_id, DiscussionAnswer.prompt_id == prompt_id)
            .order_by(DiscussionAnswer.id)
        )
        return [AnswerRow(answer=a, votes=int(n)) for a, n in (await self.session.execute(stmt)).all()]

    async def vote_count(self, answer_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count(AnswerVote.id)).where(AnswerVote.answer_id == answer_id)
            )
            or 0
        )

    async def toggle_vote(self, *, team_id: str, answer_id: int, user_id: str, at: datetime) -> bool:
        """One vote per person: delete theirs if there is one, else insert. True: now voted."""
        removed = await self.session.execute(
            delete(AnswerVote).where(
                AnswerVote.team_id == team_id,
                AnswerVote.answer_id == answer_id,
                AnswerVote.user_id == user_id,
            )
        )
        if affected(removed):
            return False
        values = {"team_id": team_id, "answer_id": answer_id, "user_id": user_id, "created_at": at}
        # a double click racing itself inserts once; the loser's click counts as the same vote
        await insert_ignore(self.session, AnswerVote, values)
        return True

    # ------------------------------------------------------------------ message ts (from the outbox)

    async def set_message_ts(self, ref_table: str, ref_id: int, ts: str) -> None:
        model: type[DiscussionPrompt] | type[DiscussionAnswer] = (
            DiscussionPrompt if ref_table == PROMPT_TABLE else DiscussionAnswer
        )
        await self.session.execute(
            update(model)
            .where(model.id == ref_id)
            .values(message_ts=ts)
            .execution_options(synchronize_session=False)
        )

    async def pending_post(self, ref_table: str, ref_id: int) -> bool:
        """Is the post that will give this row its ts still queued?"""
        stmt = select(Outbox.id).where(
            Outbox.ref_table == ref_table,
            Outbox.ref_id == ref_id,
            Outbox.method == "chat.postMessage",
            Outbox.status.in_(["pending", "sending"]),
        )
        return await self.session.scalar(stmt.limit(1)) is not None

    # ------------------------------------------------------------------ the week's aggregates

    async def _verdict_rows(self, team_id: str, start: datetime, end: datetime) -> list[Any]:
        """(kind, source, campaign, reason, count) for leads whose latest verdict event in
        [start, end) is that kind; a verdict changed within the week counts once, as it ended."""
        verdicts = [EventKind.ACCEPTED.value, EventKind.REJECTED.value]
        latest = (
            select(func.max(LeadEvent.id).label("event_id"))
            .where(
                LeadEvent.team_id == team_id,
                LeadEvent.kind.in_(verdicts),
                LeadEvent.created_at >= start,
                LeadEvent.created_at < end,
            )
            .group_by(LeadEvent.lead_id)
            .subquery()
        )
        stmt = (
            select(LeadEvent.kind, Lead.source, Lead.campaign, Lead.reject_reason, func.count(Lead.id))
            .join(latest, latest.c.event_id == LeadEvent.id)
            .join(Lead, Lead.id == LeadEvent.lead_id)
            .where(Lead.team_id == team_id)
            .group_by(LeadEvent.kind, Lead.source, Lead.campaign, Lead.reject_reason)
        )
        return list((await self.session.execute(stmt)).all())

    async def week_verdicts(
        self, team_id: str, start: datetime, end: datetime
    ) -> tuple[list[GroupStat], dict[str, int]]:
        """Per source and per campaign: accepted vs rejected and why; and the team's reasons."""
        tallies: dict[tuple[str, str], dict[str, Any]] = defaultdict(
            lambda: {"accepted": 0, "rejected": 0, "reasons": defaultdict(int)}
        )
        reasons: dict[str, int] = defaultdict(int)
        for kind, source, campaign, reason, count in await self._verdict_rows(team_id, start, end):
            if kind == EventKind.REJECTED.value:
                reasons[reason or "other"] += count
            for group, name in (("source", source), ("campaign", campaign)):
                if not name:
                    continue
                tally = tallies[(group, name)]
                if kind == EventKind.ACCEPTED.value:
                    tally["accepted"] += count
                else:
                    tally["rejected"] += count
                    tally["reasons"][reason or "other"] += count
        groups = [
            GroupStat(
                kind=group,
                name=name,
                accepted=t["accepted"],
                rejected=t["rejected"],
                reasons=dict(t["reasons"]),
            )
            for (group, name), t in sorted(tallies.items())
        ]
        return groups, dict(reasons)
