"""The interaction router on its own: when it acks, what each domain error becomes, and how it
finds the lead a click or a modal is about. No Bolt app, no database: listeners are called as
Bolt would call them, with a runtime that records the transaction's commit."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from bot import messages
from bot.domain.errors import (
    HandoffError,
    IllegalTransition,
    InvalidInput,
    LeadAlreadyClaimed,
    LeadNotFound,
    NotAllowed,
)
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.ids import ActionId, BlockId, CallbackId

TEAM, USER = "T1", "U1"


class FakeBolt:
    """Keeps the listeners the router registers, by action_id / callback_id."""

    def __init__(self) -> None:
        self.listeners: dict[str, Any] = {}

    def action(self, matcher: str | re.Pattern[str]) -> Any:
        key = matcher if isinstance(matcher, str) else matcher.pattern
        return lambda fn: self.listeners.setdefault(key, fn)

    def view(self, callback_id: str) -> Any:
        return lambda fn: self.listeners.setdefault(callback_id, fn)


class Runtime:
    """What the router uses of the running bot; `log` records the order things happen in."""

    def __init__(self, leads: dict[int, Any] | None = None) -> None:
        self.log: list[str] = []
        self.leads = leads or {}

    @asynccontextmanager
    async def open_context(self, team_id: str, *, now: Any = None) -> AsyncIterator[Any]:
        self.log.append(f"begin {team_id}")
        leads = SimpleNamespace(get=self._get)
        yield SimpleNamespace(team_id=team_id, uow=SimpleNamespace(leads=leads))
        self.log.append("commit")  # reached only when the block raised nothing

    async def _get(self, team_id: str, lead_id: int) -> Any:
        return self.leads.get(lead_id)


class Recorder:
    def __init__(self, runtime: Runtime, name: str) -> None:
        self.runtime, self.name, self.calls = runtime, name, []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        self.runtime.log.append(self.name)


def setup(leads: dict[int, Any] | None = None) -> tuple[InteractionRouter, FakeBolt, Runtime]:
    bolt = FakeBolt()
    return InteractionRouter(bolt), bolt, Runtime(leads)  # type: ignore[arg-type]


def click_body(value: str = "42", action_id: str = ActionId.CLAIM.value) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": USER, "team_id": TEAM},
        "channel": {"id": "C1"},
        "trigger_id": "1.2.abc",
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }


def submission_body(
    metadata: str = '{"lead_id": 42}', values: dict[str, str] | None = None
) -> dict[str, Any]:
    state = {
        block: {"input": {"type": "plain_text_input", "value": v}} for block, v in (values or {}).items()
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": USER},
        "view": {
            "id": "V1",
            "callback_id": CallbackId.LEAD_ACCEPT.value,
            "private_metadata": metadata,
            "state": {"values": state},
        },
    }


async def click(bolt: FakeBolt, runtime: Runtime, body: dict[str, Any], key: str = ActionId.CLAIM.value):
    ack, respond = Recorder(runtime, "ack"), Recorder(runtime, "respond")
    client = SimpleNamespace(views_open=Recorder(runtime, "views_open"))
    await bolt.listeners[key](
        ack=ack, body=body, client=client, respond=respond, context={"handoff": runtime}
    )
    return ack, respond, client


async def submit(
    bolt: FakeBolt, runtime: Runtime, body: dict[str, Any], key: str = CallbackId.LEAD_ACCEPT.value
):
    ack = Recorder(runtime, "ack")
    await bolt.listeners[key](ack=ack, body=body, client=None, context={"handoff": runtime})
    return ack


def told(respond: Recorder) -> list[str]:
    assert all(c["response_type"] == "ephemeral" and c["replace_original"] is False for c in respond.calls)
    return [c["text"] for c in respond.calls]


# --------------------------------------------------------------------------- clicks


async def test_a_click_is_acked_before_its_handler_runs_and_gets_a_typed_request() -> None:
    router, bolt, runtime = setup()
    seen: list[ClickRequest] = []

    @router.click(ActionId.CLAIM, lead=True)
    async def on_claim(req: ClickRequest) -> None:
        runtime.log.append("handler")
        seen.append(req)
        async with req.transaction():
            pass
        await req.tell("done")

    _, respond, _ = await click(bolt, runtime, click_body("42"))
    assert runtime.log == ["ack", "handler", f"begin {TEAM}", "commit", "respond"]
    [req] = seen
    assert (req.team_id, req.user_id, req.lead_id, req.channel_id) == (TEAM, USER, 42, "C1")
    assert req.handoff is runtime and req.trigger_id == "1.2.abc"
    assert told(respond) == ["done"]
    assert router.actions == [ActionId.CLAIM.value]


async def test_a_click_naming_no_lead_is_acked_and_ignored() -> None:
    router, bolt, runtime = setup()
    called: list[ClickRequest] = []
    router.click(ActionId.CLAIM, lead=True)(lambda req: called.append(req))  # type: ignore[arg-type,func-returns-value]
    ack, respond, _ = await click(bolt, runtime, click_body("not-a-lead"))
    assert len(ack.calls) == 1 and called == [] and respond.calls == []


async def test_a_click_can_have_its_lead_loaded_first() -> None:
    lead = SimpleNamespace(id=42, status="new")
    router, bolt, runtime = setup({42: lead})
    seen: list[Any] = []

    @router.click(ActionId.NOT_FOR_US, load_lead=True)
    async def handler(req: ClickRequest) -> None:
        seen.append(req.lead)

    await click(bolt, runtime, click_body("42", ActionId.NOT_FOR_US.value), ActionId.NOT_FOR_US.value)
    assert seen == [lead]


async def test_a_lead_that_is_not_there_is_said_so_and_logged_without_running_the_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, bolt, runtime = setup({})
    called: list[Any] = []

    @router.click(ActionId.NOT_FOR_US, load_lead=True)
    async def handler(req: ClickRequest) -> None:
        called.append(req)

    with caplog.at_level(logging.WARNING):
        _, respond, _ = await click(
            bolt, runtime, click_body("7", ActionId.NOT_FOR_US.value), ActionId.NOT_FOR_US.value
        )
    assert called == []
    assert told(respond) == [messages.LEAD_NOT_FOUND.format(lead_id=7)]
    assert "refused lead_not_for_us for U1 in T1: lead 7 not found" in caplog.text


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (LeadAlreadyClaimed("U2"), messages.ALREADY_CLAIMED.format(owner="<@U2>")),
        (LeadAlreadyClaimed(USER), messages.ALREADY_CLAIMED_BY_YOU),
        (
            IllegalTransition("new", "accepted"),
            messages.ILLEGAL_TRANSITION.format(current="New", wanted="Accepted"),
        ),
        (
            IllegalTransition("claimed", "returned"),
            messages.RETURN_NOT_NEW.format(lead_id=42, status="Claimed"),
        ),
        (LeadNotFound(42), messages.LEAD_NOT_FOUND.format(lead_id=42)),
        (InvalidInput({"amount": "Bad amount.", "currency": "Bad code."}), "• Bad amount.\n• Bad code."),
        (HandoffError("Plain words."), "Plain words."),
        (RuntimeError("boom"), messages.SOMETHING_WENT_WRONG),
    ],
)
async def test_each_error_of_a_click_becomes_one_ephemeral_sentence(error: Exception, expected: str) -> None:
    router, bolt, runtime = setup()

    @router.click(ActionId.CLAIM, lead=True)
    async def handler(req: ClickRequest) -> None:
        raise error

    _, respond, _ = await click(bolt, runtime, click_body("42"))
    assert told(respond) == [expected]


async def test_a_refused_click_is_logged_with_who_and_what_never_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, bolt, runtime = setup()

    @router.click(ActionId.CLAIM, lead=True)
    async def handler(req: ClickRequest) -> None:
        raise NotAllowed("Only members may claim.", why="not a member of C1")

    with caplog.at_level(logging.WARNING):
        _, respond, _ = await click(bolt, runtime, click_body("42"))
    assert told(respond) == ["Only members may claim."]
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage() == "refused lead_claim for U1 in T1: not a member of C1"
    assert "1.2.abc" not in caplog.text  # nothing of the payload


async def test_an_unexpected_failure_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    router, bolt, runtime = setup()

    @router.click(ActionId.CLAIM)
    async def handler(req: ClickRequest) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        await click(bolt, runtime, click_body("42"))
    [record] = caplog.records
    assert record.exc_info is not None and "lead_claim click failed" in record.getMessage()


async def test_an_answer_that_cannot_be_delivered_does_not_fail_the_click() -> None:
    router, bolt, runtime = setup()

    @router.click(ActionId.CLAIM)
    async def handler(req: ClickRequest) -> None:
        await req.tell("hello")

    async def broken(**kwargs: Any) -> None:
        raise ConnectionError("no response_url")

    listener = bolt.listeners[ActionId.CLAIM.value]
    await listener(
        ack=Recorder(runtime, "ack"),
        body=click_body(),
        client=None,
        respond=broken,
        context={"handoff": runtime},
    )


async def test_a_pattern_matches_a_family_of_actions() -> None:
    router, bolt, runtime = setup()
    seen: list[str] = []

    @router.click(re.compile(r"^lead_stage(_[a-z_]+)?$"), lead=True)
    async def handler(req: ClickRequest) -> None:
        seen.append(req.click.argument)

    await click(bolt, runtime, click_body("42:won", "lead_stage_won"), r"^lead_stage(_[a-z_]+)?$")
    assert seen == ["won"]


# --------------------------------------------------------------------------- submissions


async def test_a_submission_is_acked_only_after_its_transaction_committed() -> None:
    router, bolt, runtime = setup()
    seen: list[SubmissionRequest] = []

    @router.submission(CallbackId.LEAD_ACCEPT, errors_at=BlockId.QUALITY, lead=True)
    async def handler(req: SubmissionRequest) -> None:
        seen.append(req)
        async with req.transaction():
            runtime.log.append("write")

    ack = await submit(bolt, runtime, submission_body(values={"quality": "4"}))
    assert runtime.log == [f"begin {TEAM}", "write", "commit", "ack"]
    assert ack.calls == [{}]
    [req] = seen
    assert (req.team_id, req.user_id, req.lead_id, req.values) == (TEAM, USER, 42, {"quality": "4"})


async def test_a_submission_can_replace_the_modal_after_the_commit() -> None:
    router, bolt, runtime = setup()
    view = object()

    @router.submission(CallbackId.LEAD_ACCEPT, errors_at=BlockId.QUALITY)
    async def handler(req: SubmissionRequest) -> Any:
        async with req.transaction():
            pass
        return view

    ack = await submit(bolt, runtime, submission_body())
    assert runtime.log[-2:] == ["commit", "ack"]
    assert ack.calls == [{"response_action": "update", "view": view}]


async def test_a_failed_submission_rolls_back_and_answers_inline_without_closing_the_modal() -> None:
    router, bolt, runtime = setup()

    @router.submission(CallbackId.LEAD_ACCEPT, errors_at=BlockId.QUALITY, lead=True)
    async def handler(req: SubmissionRequest) -> None:
        async with req.transaction():
            raise InvalidInput({"quality": "Rate it.", "comment": "Too long."})

    ack = await submit(bolt, runtime, submission_body())
    assert "commit" not in runtime.log
    assert ack.calls == [
        {"response_action": "errors", "errors": {"quality": "Rate it.", "comment": "Too long."}}
    ]


@pytest.mark.parametrize(
    ("error", "errors"),
    [
        (
            InvalidInput({"metric": "Pick one.", "oops": "Hm."}),
            {BlockId.METRIC.value: "Pick one.", BlockId.REASON.value: "Hm."},
        ),
        (NotAllowed("Admins only."), {BlockId.REASON.value: "Admins only."}),
        (
            IllegalTransition("won", "lost"),
            {BlockId.REASON.value: messages.ILLEGAL_TRANSITION.format(current="Won", wanted="Lost")},
        ),
        (LeadNotFound(42), {BlockId.REASON.value: messages.LEAD_NOT_FOUND.format(lead_id=42)}),
        (HandoffError("Closed."), {BlockId.REASON.value: "Closed."}),
        (RuntimeError("boom"), {BlockId.REASON.value: messages.SOMETHING_WENT_WRONG}),
    ],
)
async def test_each_error_of_a_submission_lands_on_a_block(error: Exception, errors: dict[str, str]) -> None:
    router, bolt, runtime = setup()

    @router.submission(
        CallbackId.LEAD_ACCEPT, errors_at=BlockId.REASON, fields={"metric": BlockId.METRIC.value}
    )
    async def handler(req: SubmissionRequest) -> None:
        raise error

    ack = await submit(bolt, runtime, submission_body())
    assert ack.calls == [{"response_action": "errors", "errors": errors}]


async def test_a_submission_naming_no_lead_never_runs_its_handler() -> None:
    router, bolt, runtime = setup()
    called: list[Any] = []

    @router.submission(CallbackId.LEAD_ACCEPT, errors_at=BlockId.QUALITY, lead=True)
    async def handler(req: SubmissionRequest) -> None:
        called.append(req)

    ack = await submit(bolt, runtime, submission_body(metadata="forged"))
    assert called == []
    assert ack.calls == [
        {"response_action": "errors", "errors": {BlockId.QUALITY.value: messages.SOMETHING_WENT_WRONG}}
    ]


@pytest.mark.parametrize(
    ("metadata", "lead_id"),
    [
        (json.dumps({"lead_id": 7}), 7),
        ("7:C0SALES", 7),
        ("7", 7),
        ('{"lead_id": true}', None),
        ("x:7", None),
        ("{", None),
    ],
)
async def test_the_lead_of_a_modal_is_read_from_its_private_metadata(
    metadata: str, lead_id: int | None
) -> None:
    from bot.slack.payloads import metadata_lead_id

    assert metadata_lead_id(metadata) == lead_id
