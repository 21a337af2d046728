"""`/handoff webhooks list | add <url> [events] | remove <id> | test <id> | enable <id>`: the
workspace's outbound-event endpoints (admins). The signing secret is shown once, in the ephemeral
answer to `add`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.domain.errors import InvalidInput
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services import webhooks
from bot.slack.mrkdwn import escape, truncate


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    routers[Command.HANDOFF].sub("webhooks", "webhook")(webhooks_command)


def _unlink(text: str) -> str:
    """Slack sends a pasted URL as <https://…> or <https://…|label>."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    return text


async def webhooks_command(req: CommandRequest) -> None:
    await req.require_admin()
    action, _, rest = req.args.strip().partition(" ")
    action, rest = action.lower(), rest.strip()
    if action == "add":
        url, _, events = rest.partition(" ")
        if not url:
            raise InvalidInput({"url": "say where: /handoff webhooks add https://…"})
        async with req.handoff.open_context(req.team_id) as ctx:
            made = await webhooks.add_endpoint(ctx, _unlink(url), events=events or None, by=req.user_id)
        await req.ack(
            text=messages.WEBHOOK_ADDED.format(
                id=made.endpoint.id,
                url=escape(made.endpoint.url),
                events=", ".join(made.endpoint.events),
                secret=made.secret,
            )
        )
    elif action in ("", "list"):
        async with req.handoff.open_context(req.team_id) as ctx:
            rows = await webhooks.list_endpoints(ctx)
        if not rows:
            await req.ack(text=messages.WEBHOOKS_NONE)
            return
        lines = [escape(webhooks.describe(e)) for e in rows]
        await req.ack(text=truncate("\n".join(lines), 3900))
    elif action in ("remove", "delete") and rest:
        async with req.handoff.open_context(req.team_id) as ctx:
            gone = await webhooks.remove_endpoint(ctx, _unlink(rest))
        await req.ack(text=messages.WEBHOOK_REMOVED.format(id=gone.id, url=escape(gone.url)))
    elif action == "test" and rest:
        async with req.handoff.open_context(req.team_id) as ctx:
            endpoint = await webhooks.find_endpoint(ctx, _unlink(rest))
            await webhooks.send_test(ctx, str(endpoint.id))
        await req.ack(text=messages.WEBHOOK_TEST_QUEUED.format(id=endpoint.id, url=escape(endpoint.url)))
    elif action == "enable" and rest:
        async with req.handoff.open_context(req.team_id) as ctx:
            endpoint = await webhooks.enable_endpoint(ctx, _unlink(rest))
        await req.ack(text=messages.WEBHOOK_ENABLED.format(id=endpoint.id, url=escape(endpoint.url)))
    else:
        await req.ack(text=messages.WEBHOOKS_USAGE)
