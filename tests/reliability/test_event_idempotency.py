"""Events API retries run their listeners once whichever way Slack delivers them: over HTTP
(/slack/events) and over Socket Mode (AsyncSocketModeHandler hands Bolt the payload directly, with
no HTTP edge in between), because the dedupe is a Bolt middleware both paths go through."""

from __future__ import annotations

from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import select

from bot.storage.models import ProcessedKey
from tests.conftest import REP1, REP2, RunningBot


def envelope(bot: RunningBot, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The payload of a Socket Mode events_api envelope, as Slack sends it."""
    team = bot.fake.team_id
    return {
        "token": "legacy",
        "team_id": team,
        "context_team_id": team,
        "api_app_id": bot.fake.app_id,
        "event": {"event_ts": "1700000000.000100", **event},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [
            {"enterprise_id": None, "team_id": team, "user_id": bot.fake.bot_user_id, "is_bot": True}
        ],
        "is_ext_shared_channel": False,
    }


async def over_socket(bot: RunningBot, payload: dict[str, Any], retry_attempt: int | None = None) -> Any:
    """What slack_bolt's async Socket Mode adapter does with one envelope (run_async_bolt_app)."""
    headers = {"x-slack-retry-num": str(retry_attempt)} if retry_attempt is not None else None
    request = AsyncBoltRequest(body=payload, mode="socket_mode", headers=headers)
    return await bot.handoff.bolt.async_dispatch(request)


def home_opened(bot: RunningBot, user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": bot.fake.im_channel(user), "tab": "home"}


async def processed_keys(bot: RunningBot) -> list[str]:
    async with bot.handoff.uow() as uow:
        return sorted(await uow.session.scalars(select(ProcessedKey.key)))


async def test_socket_mode_retries_of_an_event_publish_the_home_once(bot: RunningBot) -> None:
    payload = envelope(bot, home_opened(bot, REP1), "Ev0SOCKET0001")
    first = await over_socket(bot, payload)
    retries = [await over_socket(bot, payload, retry_attempt=n) for n in (1, 2)]
    other = await over_socket(bot, envelope(bot, home_opened(bot, REP2), "Ev0SOCKET0002"))
    assert [r.status for r in (first, *retries, other)] == [200, 200, 200, 200]
    assert all(r.body == "" for r in retries)  # acked, nothing run
    published_for = [c.args["user_id"] for c in bot.fake.calls_to("views.publish")]
    assert published_for == [REP1, REP2]
    assert bot.fake.home(REP1) is not None
    assert await processed_keys(bot) == ["event:Ev0SOCKET0001", "event:Ev0SOCKET0002"]


async def test_socket_mode_failure_is_forgotten_so_the_redelivery_runs(bot: RunningBot) -> None:
    calls: list[str] = []

    @bot.handoff.bolt.event("reaction_added")
    async def flaky(event: dict[str, Any]) -> None:  # a listener of this test only
        calls.append(event["user"])
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    payload = envelope(bot, {"type": "reaction_added", "user": REP1, "reaction": "eyes"}, "Ev0SOCKET00FF")
    first = await over_socket(bot, payload)
    assert first.status == 500  # the adapter does not ack the envelope: Slack redelivers it
    assert await processed_keys(bot) == []
    again = await over_socket(bot, payload, retry_attempt=1)
    assert again.status == 200 and calls == [REP1, REP1]
    late = await over_socket(bot, payload, retry_attempt=2)
    assert late.status == 200 and calls == [REP1, REP1]


async def test_http_and_socket_share_one_memory_of_handled_events(bot: RunningBot) -> None:
    """An app moved between HTTP and Socket Mode mid-retry still runs an event once, and the HTTP
    duplicate is an empty 200."""
    first = await bot.slack.event(home_opened(bot, REP1), event_id="Ev0BOTHWAYS1")
    assert first.status == 200
    http_retry = await bot.slack.event(home_opened(bot, REP1), event_id="Ev0BOTHWAYS1", retry_num=1)
    assert http_retry.status == 200 and http_retry.body == ""
    socket_retry = await over_socket(bot, envelope(bot, home_opened(bot, REP1), "Ev0BOTHWAYS1"), 2)
    assert socket_retry.status == 200 and socket_retry.body == ""
    assert len(bot.fake.calls_to("views.publish")) == 1
