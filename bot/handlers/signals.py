"""Customer signals: the lead API's `"kind": "signal"`, and the owner's answers on the card
(Reach out / Not now / Tell marketing why)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from slack_sdk.models.views import View

from bot import messages
from bot.domain import untrusted
from bot.domain.errors import InvalidInput
from bot.domain.lead_input import LeadIn, parse_lead
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.ids import ActionId, BlockId, CallbackId
from bot.services import signals
from bot.services.intake import NoChannel
from bot.services.runtime import Runtime
from bot.slack.blocks.signals import why_modal


def register(interactions: InteractionRouter) -> None:
    interactions.click(ActionId.SIGNAL_REACH_OUT)(on_reach_out)
    interactions.click(ActionId.SIGNAL_NOT_NOW)(on_not_now)
    interactions.click(ActionId.SIGNAL_WHY)(on_why)
    interactions.submission(
        CallbackId.SIGNAL_WHY, errors_at=BlockId.SIGNAL_REASON, fields={"reason": BlockId.SIGNAL_REASON}
    )(on_why_submitted)


# -- the lead API -------------------------------------------------------------------------------


def signal_body(body: bytes) -> dict[str, Any] | None:
    """The request's object when it is one signal (`"kind": "signal"`), else None."""
    try:
        data = untrusted.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == "signal" else None


async def post_signal(handoff: Runtime, team_id: str, data: dict[str, Any]) -> web.Response:
    try:
        lead = parse_lead(data)
        async with handoff.open_context(team_id) as ctx:
            got = await signals.receive(ctx, lead, activity=data.get("activity"))
    except InvalidInput as exc:
        return web.json_response({"status": "invalid", "errors": exc.errors}, status=422)
    except NoChannel:
        return web.json_response(
            {"status": "invalid", "errors": {"lead": messages.LEAD_NO_CHANNEL}}, status=422
        )
    handoff.wake_sender()
    body = received_json(got)
    return web.json_response(body, status=201 if body["status"] in ("sent", "batched", "created") else 200)


def received_json(got: signals.Received) -> dict[str, Any]:
    """What became of a signal: sent to its owner (or held for the day's batch), or a lead."""
    if got.signal is not None:
        return {
            "kind": "signal",
            "status": "batched" if got.batched else "sent",
            "id": got.signal.id,
            "account_id": got.signal.account_id,
            "owner": got.signal.owner_id,
        }
    assert got.lead is not None
    stored = got.lead.lead
    return {
        "kind": "lead",
        "status": got.lead.status,
        "reason": "no customer matches this company: handed over as a lead",
        "id": stored.id,
        "email": stored.email,
        "channel_id": stored.channel_id,
    }


def is_signal_item(raw: object) -> bool:
    """An item of a lead API batch that is a customer signal (`"kind": "signal"`)."""
    return isinstance(raw, dict) and raw.get("kind") == "signal"


async def receive_signal_items(
    handoff: Runtime, team_id: str, items: dict[int, tuple[LeadIn | InvalidInput, object]]
) -> dict[int, dict[str, Any]]:
    """A batch's signal items, by their index in the batch, in one transaction."""
    if not items:
        return {}
    async with handoff.open_context(team_id) as ctx:
        got = await signals.receive_many(ctx, list(items.values()))
    out: dict[int, dict[str, Any]] = {}
    for index, result in zip(items, got, strict=True):
        if isinstance(result, InvalidInput):
            out[index] = {"index": index, "kind": "signal", "status": "invalid", "errors": result.errors}
        else:
            out[index] = {"index": index, **received_json(result)}
    return out


# -- the card -------------------------------------------------------------------------------------


def _signal_id(req: ClickRequest) -> int | None:
    value = req.click.value
    return int(value) if value.isascii() and value.isdigit() else None


async def _answer(req: ClickRequest, outcome: str) -> None:
    signal_id = _signal_id(req)
    if signal_id is None:
        return
    async with req.transaction() as ctx:
        signal, changed = await signals.answer(ctx, signal_id, outcome, user_id=req.user_id)
    # after the commit
    await req.tell(
        messages.SIGNAL_ANSWERED if changed else messages.SIGNAL_ALREADY.format(outcome=signal.outcome)
    )


async def on_reach_out(req: ClickRequest) -> None:
    await _answer(req, signals.REACH_OUT)


async def on_not_now(req: ClickRequest) -> None:
    await _answer(req, signals.NOT_NOW)


async def on_why(req: ClickRequest) -> None:
    signal_id = _signal_id(req)
    if signal_id is not None:
        await req.open_view(why_modal(signal_id))


async def on_why_submitted(req: SubmissionRequest) -> View | None:
    if not req.metadata.isdigit():
        raise InvalidInput({"reason": messages.SIGNAL_NOT_FOUND})
    async with req.transaction() as ctx:
        await signals.answer(
            ctx,
            int(req.metadata),
            signals.NOT_NOW,
            user_id=req.user_id,
            reason=str(req.values.get(BlockId.SIGNAL_REASON.value) or ""),
        )
    return None
