"""`/handoff admins [list]`, `/handoff admins add @user`, `/handoff admins remove @user`: the
workspace's Handoff admins (its own list; the installer is the first)."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import InvalidInput
from bot.domain.route_syntax import user_id
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services import admins as admin_service
from bot.slack.mrkdwn import mention


def register(routers: dict[Command, CommandRouter]) -> None:
    routers[Command.HANDOFF].sub("admins")(admins_command)


def parse_admins_args(args: str) -> tuple[str, str | None]:
    """'' / 'list' → ('list', None); 'add <@U1>' → ('add', 'U1'). InvalidInput otherwise."""
    words = args.split()
    action = words[0].lower() if words else "list"
    if action == "list" and len(words) <= 1:
        return action, None
    if action in ("add", "remove") and len(words) == 2 and (who := user_id(words[1])) is not None:
        return action, who
    raise InvalidInput({"usage": messages.ADMINS_USAGE})


async def admins_command(req: CommandRequest) -> None:
    action, who = parse_admins_args(req.args)
    if who is None:
        async with req.handoff.open_context(req.team_id) as ctx:
            admins = await admin_service.list_admins(ctx)
        names = ", ".join(mention(a) for a in admins.nameable)
        await req.ack(text=messages.ADMINS_LIST.format(admins=names) if names else messages.ADMINS_NONE)
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        if action == "add":
            changed = await admin_service.add_admin(ctx, by=req.user_id, user_id=who)
        else:
            changed = await admin_service.remove_admin(ctx, by=req.user_id, user_id=who)
    texts = {
        ("add", True): messages.ADMIN_ADDED,
        ("add", False): messages.ADMIN_ALREADY,
        ("remove", True): messages.ADMIN_REMOVED,
        ("remove", False): messages.ADMIN_NOT_ONE,
    }
    await req.ack(text=texts[(action, changed)].format(user=mention(who)))
