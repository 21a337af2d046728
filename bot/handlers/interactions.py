"""Clicks and modal submissions: the plumbing every button and form shares, done once.

`click(ActionId.X)` and `submission(CallbackId.Y, errors_at=BlockId.Z)` add a Bolt listener that
acks, parses the payload into a ClickRequest / SubmissionRequest, and turns the domain errors a
handler's service raises into what the person sees. The CommandRouter (router.py) does the same
for slash commands.

- A click is acked first; errors become an ephemeral answer through the click's response_url.
- A submission is acked last, after the handler's transaction has committed, so a person never
  sees a modal close (or a confirmation) ahead of the database; errors come back inline on the
  modal (`response_action: errors`), next to the field they are about.
- `req.transaction()` opens the unit of work + notifier for the request's workspace; the handler
  decides what runs inside it (no Slack call ever waits inside a transaction).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import (
    HandoffError,
    IllegalTransition,
    InvalidInput,
    LeadAlreadyClaimed,
    LeadNotFound,
    NotAllowed,
)
from bot.domain.lead import Status
from bot.ids import ActionId, BlockId, CallbackId
from bot.services import lifecycle
from bot.slack.mrkdwn import mention
from bot.slack.payloads import ActionClick, ViewSubmission, extract_click, extract_submission

if TYPE_CHECKING:
    from bot.services.context import Ctx
    from bot.services.runtime import Runtime
    from bot.storage.models import Lead

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- requests


@dataclass
class Interaction:
    """What a click and a submission have in common."""

    handoff: Runtime
    client: AsyncWebClient
    team_id: str
    user_id: str
    what: str  # the action_id or callback_id, for logs
    named_lead_id: int | None

    @property
    def lead_id(self) -> int:
        """The lead the payload names; only for listeners registered with lead=True."""
        if self.named_lead_id is None:
            raise LookupError(f"{self.what} was registered without lead=True")
        return self.named_lead_id

    def transaction(self) -> AbstractAsyncContextManager[Ctx]:
        """The request's unit of work + notifier; it commits when the block ends, then wakes the
        outbox sender."""
        return self.handoff.open_context(self.team_id)


@dataclass
class ClickRequest(Interaction):
    respond: AsyncRespond
    click: ActionClick
    lead: Lead | None = None  # loaded for listeners registered with load_lead=True

    @property
    def channel_id(self) -> str | None:
        return self.click.channel_id

    @property
    def trigger_id(self) -> str:
        return self.click.trigger_id

    async def tell(self, text: str) -> None:
        """An ephemeral answer to the clicker through the click's response_url
        (chat.postEphemeral would fail for someone who is not in the channel)."""
        await tell(self.respond, text)

    async def open_view(self, view: View) -> None:
        # direct, not through the outbox: the trigger_id is good for 3 seconds only
        await self.client.views_open(trigger_id=self.trigger_id, view=view)

    async def reply(self, answer: str | View | None) -> None:
        """A sentence is told, a modal opened, None says nothing."""
        if isinstance(answer, View):
            await self.open_view(answer)
        elif answer:
            await self.tell(answer)


@dataclass
class SubmissionRequest(Interaction):
    submission: ViewSubmission
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> str:
        return self.submission.private_metadata


ClickHandler = Callable[[ClickRequest], Awaitable[None]]
# a submission handler returns the view that replaces the modal, or None to close it
SubmissionHandler = Callable[[SubmissionRequest], Awaitable[View | None]]


async def tell(respond: AsyncRespond, text: str) -> None:
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # an answer we cannot deliver must not fail the click
        log.warning("could not answer a click: %s", exc)


# --------------------------------------------------------------------------- errors


def explain(exc: HandoffError, *, user_id: str = "", lead_id: int | None = None) -> str:
    """A domain error as a sentence for the person (`user_id`) who caused it."""
    if isinstance(exc, InvalidInput):
        return "\n".join(f"• {v}" for v in exc.errors.values())
    if isinstance(exc, LeadAlreadyClaimed):
        if exc.owner_id == user_id:
            return messages.ALREADY_CLAIMED_BY_YOU
        if exc.owner_id is None and exc.status in set(Status):
            # e.g. handed back to marketing: nobody claimed it, it just is not open any more
            return messages.NOT_OPEN_TO_CLAIM.format(status=Status(exc.status).label)
        return messages.ALREADY_CLAIMED.format(owner=mention(exc.owner_id))
    if isinstance(exc, IllegalTransition):
        if exc.wanted == Status.RETURNED.value and lead_id is not None:
            return messages.RETURN_NOT_NEW.format(lead_id=lead_id, status=Status(exc.current).label)
        return messages.ILLEGAL_TRANSITION.format(
            current=Status(exc.current).label, wanted=Status(exc.wanted).label
        )
    if isinstance(exc, LeadNotFound):
        return messages.LEAD_NOT_FOUND.format(lead_id=exc.lead_id)
    return str(exc)


def _log_refusal(exc: Exception, req: Interaction) -> None:
    # refusals are security events: who, what and why, never the payload
    if isinstance(exc, NotAllowed):
        log.warning("refused %s for %s in %s: %s", req.what, req.user_id, req.team_id, exc.why)
    elif isinstance(exc, LeadNotFound):  # a lead of another workspace, or a forged ID
        log.warning(
            "refused %s for %s in %s: lead %s not found", req.what, req.user_id, req.team_id, exc.lead_id
        )


def click_answer(exc: Exception, req: ClickRequest) -> str:
    """What the clicker reads when their click failed."""
    if isinstance(exc, HandoffError):
        _log_refusal(exc, req)
        return explain(exc, user_id=req.user_id, lead_id=req.named_lead_id)
    log.exception("%s click failed", req.what, exc_info=exc)
    return messages.SOMETHING_WENT_WRONG


def inline_errors(
    exc: Exception, req: SubmissionRequest, *, errors_at: str, fields: Mapping[str, str] | None
) -> dict[str, str]:
    """{block_id: sentence} for a failed submission. InvalidInput's field names are block IDs
    unless `fields` maps them (then a field it does not name goes to `errors_at`)."""
    if isinstance(exc, InvalidInput):
        if fields is None:
            return dict(exc.errors)
        errors: dict[str, str] = {}
        for name, text in exc.errors.items():
            errors.setdefault(fields.get(name, errors_at), text)
        return errors
    if isinstance(exc, HandoffError):
        _log_refusal(exc, req)
        return {errors_at: explain(exc, user_id=req.user_id, lead_id=req.named_lead_id)}
    log.exception("%s submission failed", req.what, exc_info=exc)
    return {errors_at: messages.SOMETHING_WENT_WRONG}


# --------------------------------------------------------------------------- the router


class InteractionRouter:
    """Registers click and submission handlers with Bolt, wrapped in the shared plumbing."""

    def __init__(self, app: AsyncApp) -> None:
        self.app = app
        self.actions: list[str] = []  # what is registered, as Bolt matches it
        self.callbacks: list[str] = []

    def click(
        self, action: ActionId | re.Pattern[str], *, lead: bool = False, load_lead: bool = False
    ) -> Callable[[ClickHandler], ClickHandler]:
        """`lead=True`: the button's value names a lead (`42` or `42:argument`); a click that names
        none is ignored. `load_lead=True` also loads it (req.lead) before the handler runs."""
        lead = lead or load_lead

        def decorate(handler: ClickHandler) -> ClickHandler:
            async def listener(
                ack: AsyncAck,
                body: dict[str, Any],
                client: AsyncWebClient,
                respond: AsyncRespond,
                context: Any,
            ) -> None:
                await ack()
                click = extract_click(body)
                req = ClickRequest(
                    handoff=context["handoff"],
                    client=client,
                    team_id=click.team_id,
                    user_id=click.user_id,
                    what=click.action_id,
                    named_lead_id=click.lead_id,
                    respond=respond,
                    click=click,
                )
                if lead and click.lead_id is None:
                    return
                try:
                    if load_lead:
                        async with req.transaction() as ctx:
                            req.lead = await lifecycle.load_lead(ctx, req.lead_id)
                    await handler(req)
                except Exception as exc:
                    await req.tell(click_answer(exc, req))

            matcher = action if isinstance(action, re.Pattern) else action.value
            self.app.action(matcher)(listener)
            self.actions.append(matcher if isinstance(matcher, str) else matcher.pattern)
            return handler

        return decorate

    def submission(
        self,
        callback: CallbackId,
        *,
        errors_at: BlockId,
        fields: Mapping[str, str] | None = None,
        lead: bool = False,
    ) -> Callable[[SubmissionHandler], SubmissionHandler]:
        """`errors_at`: the block that shows an error about no one field (a refusal, a failure).
        `fields`: the service's field names → block IDs, when they differ. `lead=True`: the
        modal's private_metadata names a lead (`{"lead_id": 42}` or `42:...`)."""

        def decorate(handler: SubmissionHandler) -> SubmissionHandler:
            async def listener(
                ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any
            ) -> None:
                submission = extract_submission(body)
                req = SubmissionRequest(
                    handoff=context["handoff"],
                    client=client,
                    team_id=submission.team_id,
                    user_id=submission.user_id,
                    what=submission.callback_id,
                    named_lead_id=submission.lead_id,
                    submission=submission,
                    values=submission.values,
                )
                if lead and submission.lead_id is None:
                    log.warning("%s from %s names no lead", req.what, req.user_id)
                    await ack(
                        response_action="errors", errors={errors_at.value: messages.SOMETHING_WENT_WRONG}
                    )
                    return
                try:
                    view = await handler(req)
                except Exception as exc:
                    errors = inline_errors(exc, req, errors_at=errors_at.value, fields=fields)
                    await ack(response_action="errors", errors=errors)
                    return
                # only now, after the handler's commit
                if view is None:
                    await ack()
                else:
                    await ack(response_action="update", view=view)

            self.app.view(callback.value)(listener)
            self.callbacks.append(callback.value)
            return handler

        return decorate
