"""Slash command routing: `/handoff route add ...` → the handler registered for "route"."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import HandoffError, InvalidInput, NotAllowed
from bot.ids import Command
from bot.services.context import Admins, load_admins
from bot.slack.payloads import installed_team_id

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class CommandRequest:
    """One slash command, parsed: what a subcommand handler needs and nothing of Bolt's plumbing."""

    ack: AsyncAck
    respond: AsyncRespond
    client: AsyncWebClient
    handoff: Runtime
    command: str
    sub: str
    args: str
    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    body: dict[str, Any]

    _admins: Admins | None = field(default=None, init=False, repr=False)

    async def admins(self) -> Admins:
        """The admins of the workspace the command came from (read once per command)."""
        if self._admins is None:
            async with self.handoff.uow() as uow:
                self._admins = await load_admins(uow, self.handoff.settings, self.team_id)
        return self._admins

    async def is_admin(self) -> bool:
        return self.user_id in await self.admins()

    async def require_admin(self) -> None:
        admins = await self.admins()
        if self.user_id not in admins:
            raise admins.refusal()


Handler = Callable[[CommandRequest], Awaitable[None]]


class CommandRouter:
    def __init__(self, command: Command) -> None:
        self.command = command
        self._subs: dict[str, Handler] = {}
        self._names: list[tuple[str, ...]] = []  # each sub's names as registered, aliases after
        self._fallback: Handler | None = None

    @property
    def has_handlers(self) -> bool:
        return bool(self._subs) or self._fallback is not None

    def sub(self, *names: str) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            for name in names:
                self._subs[name] = fn
            self._names.append(names)
            return fn

        return decorate

    @property
    def subcommands(self) -> list[tuple[str, ...]]:
        """Each subcommand's names; the fallback (free text after the command) counts as ''."""
        return [*self._names, *([("",)] if self._fallback is not None else [])]

    def fallback(self, fn: Handler) -> Handler:
        """Runs when the first word is no subcommand (e.g. `/lead jane@acme.com ...`)."""
        self._fallback = fn
        return fn

    async def dispatch(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: Any
    ) -> None:
        text = (body.get("text") or "").strip()
        first, _, rest = text.partition(" ")
        sub = first.lower()
        handler = self._subs.get(sub)
        args = rest.strip()
        if handler is None:
            handler, sub, args = self._fallback, "", text
        request = CommandRequest(
            ack=ack,
            respond=respond,
            client=client,
            handoff=context["handoff"],
            command=self.command.value,
            sub=sub,
            args=args,
            team_id=installed_team_id(body) or context.team_id or "",
            user_id=body.get("user_id") or "",
            channel_id=body.get("channel_id") or "",
            trigger_id=body.get("trigger_id") or "",
            body=body,
        )
        if handler is None:
            await ack(text=messages.UNKNOWN_SUBCOMMAND.format(command=self.command.value, sub=first))
            return
        try:
            await handler(request)
        except InvalidInput as exc:
            await _reply_error(ack, respond, "\n".join(f"• {k}: {v}" for k, v in exc.errors.items()))
        except NotAllowed as exc:
            # refusals are security events: who, what and why, never the request body
            log.warning(
                "refused %s %s for %s in %s: %s",
                self.command.value,
                sub or "-",
                request.user_id,
                request.team_id,
                type(exc).__name__,
            )
            await _reply_error(ack, respond, str(exc))
        except HandoffError as exc:
            await _reply_error(ack, respond, str(exc))
        except Exception:
            log.exception("%s %s failed", self.command.value, sub)
            await _reply_error(ack, respond, messages.SOMETHING_WENT_WRONG)


async def _reply_error(ack: AsyncAck, respond: AsyncRespond, text: str) -> None:
    # before ack, the ack carries the answer; after it, the response_url does
    if ack.response is None:
        await ack(text=text)
    else:
        await respond(text=text, response_type="ephemeral", replace_original=False)
