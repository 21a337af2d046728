"""`/handoff tokens create <name> | list | revoke <name>`: the workspace's lead-API tokens (admins).

The token is shown once, in the command's ephemeral answer; nothing else ever shows it again."""

from __future__ import annotations

from datetime import datetime

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.domain.errors import InvalidInput
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services.api_tokens import create_token, list_tokens, revoke_token
from bot.slack.mrkdwn import escape, mention, truncate


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    routers[Command.HANDOFF].sub("tokens", "token")(tokens_command)


async def tokens_command(req: CommandRequest) -> None:
    await req.require_admin()
    action, _, rest = req.args.partition(" ")
    action, name = action.lower(), rest.strip()
    if action == "create":
        _need_name(name, "create")
        async with req.handoff.open_context(req.team_id) as ctx:
            made = await create_token(ctx, name, by=req.user_id)
        text = messages.TOKEN_CREATED.format(
            name=escape(made.row.name), token=made.token, key_id=made.row.key_id
        )
        await req.ack(text=text)
    elif action == "list":
        async with req.handoff.open_context(req.team_id) as ctx:
            rows = await list_tokens(ctx)
        lines = [messages.TOKENS_HEADER] if rows else [messages.TOKENS_NONE]
        for row in rows:
            if row.revoked_at is not None:
                line = messages.TOKEN_LINE_REVOKED.format(
                    name=escape(row.name), key_id=row.key_id, revoked=_when(row.revoked_at)
                )
            else:
                line = messages.TOKEN_LINE.format(
                    name=escape(row.name),
                    key_id=row.key_id,
                    by=mention(row.created_by) if row.created_by else "the CLI",
                    created=_when(row.created_at),
                    used=_when(row.last_used_at) if row.last_used_at else messages.TOKEN_NEVER_USED,
                )
            lines.append(line)
        await req.ack(text=truncate("\n".join(lines), 3900))
    elif action in ("revoke", "remove", "delete"):
        _need_name(name, "revoke")
        async with req.handoff.open_context(req.team_id) as ctx:
            row = await revoke_token(ctx, name)
        await req.ack(text=messages.TOKEN_REVOKED.format(name=escape(row.name), key_id=row.key_id))
    else:
        await req.ack(text=messages.TOKENS_USAGE)


def _need_name(name: str, action: str) -> None:
    if not name:
        raise InvalidInput({"name": f"say which: /handoff tokens {action} <name>"})


def _when(at: datetime) -> str:
    """Slack shows the date in each reader's own time zone; the fallback is UTC."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"
