"""How the outbox sender finishes discussion rows: thread replies find their prompt's ts (waiting
for it like lead thread replies wait for the card), answers are rendered at send time so the +1
count is never stale, and posted prompts and answers remember their ts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.slack import notifier as purposes
from bot.slack.blocks.discussion import answer_message
from bot.storage.discussions import ANSWER_TABLE, PROMPT_TABLE, DiscussionStore
from bot.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.slack.outbox import Outcome, _RowSnapshot


def _wait(what: str) -> Outcome:
    from bot.slack.outbox import Outcome  # bot.slack.outbox imports this module

    return Outcome(ok=False, retry_in=0.5, error=f"waiting for {what}", count_attempt=False)


def _fail(error: str) -> Outcome:
    from bot.slack.outbox import Outcome  # bot.slack.outbox imports this module

    return Outcome(ok=False, error=error)


async def prepare_discussion_row(
    session_factory: async_sessionmaker[AsyncSession], row: _RowSnapshot, args: dict[str, Any]
) -> tuple[str, dict[str, Any]] | Outcome:
    if row.purpose == purposes.DISCUSSION_PROMPT or row.ref_id is None:
        return row.method, args
    async with UnitOfWork(session_factory) as uow:
        store = DiscussionStore(uow.session)
        if row.ref_table == PROMPT_TABLE:  # a reply under the prompt (the recap)
            prompt = await store.prompt(row.team_id, row.ref_id)
            if prompt is None:
                return _fail("the discussion no longer exists")
            if prompt.message_ts is None:
                if await store.pending_post(PROMPT_TABLE, prompt.id):
                    return _wait("the prompt")
                return _fail("the discussion's prompt was never posted")
            args["channel"], args["thread_ts"] = prompt.channel_id, prompt.message_ts
            return row.method, args
        answer = await store.answer(row.team_id, row.ref_id)
        if answer is None:
            return _fail("the answer no longer exists")
        prompt = await store.prompt(row.team_id, answer.prompt_id)
        if prompt is None:
            return _fail("the discussion no longer exists")
        text, blocks = answer_message(
            answer_id=answer.id,
            text=answer.text,
            author_id=None if answer.anonymous else answer.user_id,
            votes=await store.vote_count(answer.id),
        )
        args.update(text=text, blocks=[b.to_dict() for b in blocks], channel=prompt.channel_id)
        if row.purpose == purposes.DISCUSSION_ANSWER:
            if prompt.message_ts is None:
                if await store.pending_post(PROMPT_TABLE, prompt.id):
                    return _wait("the prompt")
                return _fail("the discussion's prompt was never posted")
            args["thread_ts"] = prompt.message_ts
            return row.method, args
        # DISCUSSION_ANSWER_UPDATE
        if answer.message_ts is None:
            if await store.pending_post(ANSWER_TABLE, answer.id):
                return _wait("the answer")
            return _fail("the answer was never posted")
        args["ts"] = answer.message_ts
        return row.method, args


async def record_discussion_ts(uow: UnitOfWork, ref_table: str, ref_id: int, ts: str) -> None:
    if ref_table in (PROMPT_TABLE, ANSWER_TABLE):
        await DiscussionStore(uow.session).set_message_ts(ref_table, ref_id, ts)
