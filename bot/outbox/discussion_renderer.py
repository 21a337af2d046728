"""Discussion rows: thread replies find their prompt's ts (waiting for it as lead replies wait for
the card), answers are rendered at send time so the +1 count is never stale, and posted prompts
and answers remember their ts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox import DISCUSSION_PURPOSES, Purpose
from bot.outbox.outcome import Call, Outcome, RowSnapshot
from bot.outbox.rendering import Rendered
from bot.slack.blocks.discussion import answer_message
from bot.slack.blocks.serialize import as_dicts
from bot.storage.discussions import ANSWER_TABLE, PROMPT_TABLE, DiscussionRepo
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork

# posts whose ts the referenced row (ref_table/ref_id) keeps, so replies and edits can find them
RECORDS_TS = frozenset({Purpose.DISCUSSION_PROMPT, Purpose.DISCUSSION_ANSWER})


class DiscussionRenderer:
    purposes = DISCUSSION_PURPOSES

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            for row, args in rows:
                if row.purpose is Purpose.DISCUSSION_PROMPT or row.ref_id is None:
                    calls[row.id] = (row.method, args)
                elif row.ref_table == PROMPT_TABLE:
                    calls[row.id] = await _under_prompt(uow.discussions, row, args, row.ref_id)
                else:
                    calls[row.id] = await _answer(uow.discussions, row, args, row.ref_id)
        return calls

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        if row.purpose in RECORDS_TS and row.ref_table in (PROMPT_TABLE, ANSWER_TABLE) and row.ref_id:
            if outcome.ts:
                await uow.discussions.set_message_ts(row.ref_table, row.ref_id, outcome.ts)


async def _under_prompt(
    store: DiscussionRepo, row: RowSnapshot, args: dict[str, Any], prompt_id: int
) -> Call | Outcome:
    """A reply under the prompt (the recap)."""
    prompt = await store.prompt(row.team_id, prompt_id)
    if prompt is None:
        return Outcome.fail("the discussion no longer exists")
    if prompt.message_ts is None:
        if await store.pending_post(PROMPT_TABLE, prompt.id):
            return Outcome.wait_for("the prompt")
        return Outcome.fail("the discussion's prompt was never posted")
    args["channel"], args["thread_ts"] = prompt.channel_id, prompt.message_ts
    return row.method, args


async def _answer(
    store: DiscussionRepo, row: RowSnapshot, args: dict[str, Any], answer_id: int
) -> Call | Outcome:
    answer = await store.answer(row.team_id, answer_id)
    if answer is None:
        return Outcome.fail("the answer no longer exists")
    prompt = await store.prompt(row.team_id, answer.prompt_id)
    if prompt is None:
        return Outcome.fail("the discussion no longer exists")
    text, blocks = answer_message(
        answer_id=answer.id,
        text=answer.text,
        author_id=None if answer.anonymous else answer.user_id,
        votes=await store.vote_count(answer.id),
    )
    args.update(text=text, blocks=as_dicts(blocks), channel=prompt.channel_id)
    if row.purpose is Purpose.DISCUSSION_ANSWER:
        if prompt.message_ts is None:
            if await store.pending_post(PROMPT_TABLE, prompt.id):
                return Outcome.wait_for("the prompt")
            return Outcome.fail("the discussion's prompt was never posted")
        args["thread_ts"] = prompt.message_ts
        return row.method, args
    # DISCUSSION_ANSWER_UPDATE: an edit of the answer's own message
    if answer.message_ts is None:
        if await store.pending_post(ANSWER_TABLE, answer.id):
            return Outcome.wait_for("the answer")
        return Outcome.fail("the answer was never posted")
    args["ts"] = answer.message_ts
    return row.method, args
