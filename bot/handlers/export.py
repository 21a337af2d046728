"""`/handoff export [leads|feedback|targets] [since YYYY-MM-DD]`: admins get the CSV by DM.

The file is built after the ack, in a background task, and sent with direct calls
(conversations.open + files_upload_v2): an export is a read, not a state change, and it can be
far too big to ride in an outbox row.
"""

from __future__ import annotations

import logging
from datetime import date

from bot import messages
from bot.domain.errors import InvalidInput
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services.context import load_timezone
from bot.services.export import ExportKind, export_to_string
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)


def register(routers: dict[Command, CommandRouter]) -> None:
    routers[Command.HANDOFF].sub("export")(export_command)


def parse_export_args(args: str) -> tuple[ExportKind, date | None]:
    words = args.lower().split()
    kind = ExportKind.LEADS
    if words and words[0] in {k.value for k in ExportKind}:
        kind = ExportKind(words.pop(0))
    if words and words[0] == "since":
        words.pop(0)
    since = None
    if words:
        try:
            since = date.fromisoformat(words.pop(0))
        except ValueError:
            raise InvalidInput({"usage": messages.EXPORT_USAGE}) from None
    if words:
        raise InvalidInput({"usage": messages.EXPORT_USAGE})
    return kind, since


async def export_command(req: CommandRequest) -> None:
    await req.require_admin()
    kind, since = parse_export_args(req.args)
    await req.ack(text=messages.EXPORT_STARTED.format(kind=kind.value))
    req.handoff.run_in_background(
        send_export(req.handoff, req.team_id, req.user_id, kind, since), name=f"export:{req.user_id}"
    )


async def send_export(
    handoff: Runtime, team_id: str, user_id: str, kind: ExportKind, since: date | None
) -> None:
    try:
        async with handoff.read_uow() as uow:  # beside the writer: no request waits for it
            tz = await load_timezone(uow, handoff.settings, team_id)  # `since` is a date there
            text, count = await export_to_string(
                uow, team_id, kind, "csv", since=since, now=handoff.clock.now(), tz=tz
            )
        client = await handoff.clients.direct(team_id)
        dm = (await client.conversations_open(users=user_id))["channel"]["id"]
        stamp = handoff.clock.now().astimezone(tz).strftime("%Y-%m-%d")
        await client.files_upload_v2(
            channel=dm,
            content=text.encode("utf-8"),
            filename=f"handoff-{kind.value}-{stamp}.csv",
            title=f"Handoff {kind.value} export {stamp}",
            initial_comment=messages.EXPORT_READY.format(
                kind=kind.value, rows=count, since=f" since {since.isoformat()}" if since else ""
            ),
        )
    except Exception:
        log.exception("export for %s failed", user_id)
        try:
            client = await handoff.clients.direct(team_id)
            await client.chat_postMessage(channel=user_id, text=messages.SOMETHING_WENT_WRONG)
        except Exception:
            log.warning("could not tell %s that the export failed", user_id)
