"""Modals and Home tabs: trigger ids and their expiry, the modal stack, views.* and view_submission acks."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from bot.sandbox.fake_slack.blockkit import normalize_blocks, view_violations
from bot.sandbox.fake_slack.models import SlackError, StoredView, Trigger
from bot.sandbox.fake_slack.state import SlackState

TRIGGER_TTL = 3.0
VIEW_STACK_LIMIT = 3


class ViewsMethods(SlackState):
    """views.* handlers and the modal stacks, Home tabs and triggers behind them."""

    # ------------------------------------------------------------------ human-view helpers

    def view(self, view_id: str) -> dict[str, Any] | None:
        v = self._views.get(view_id)
        return v.data if v else None

    def view_stack(self, user_id: str) -> list[dict[str, Any]]:
        return [self._views[v].data for v in self._modal_stacks.get(user_id, [])]

    def open_view(self, user_id: str) -> dict[str, Any] | None:
        stack = self._modal_stacks.get(user_id) or []
        return self._views[stack[-1]].data if stack else None

    def home(self, user_id: str) -> dict[str, Any] | None:
        vid = self._homes.get(user_id)
        return self._views[vid].data if vid else None

    def view_errors(self, view_id: str) -> dict[str, str] | None:
        v = self._views.get(view_id)
        return v.errors if v else None

    # ------------------------------------------------------------------ used by the driver

    def issue_trigger(self, user_id: str) -> str:
        tid = f"{next(self._ids)}.{self.team_id[1:]}.{secrets.token_hex(16)}"
        self._triggers[tid] = Trigger(id=tid, user=user_id, issued_at=self.clock())
        return tid

    def trigger_used(self, trigger_id: str) -> bool:
        trig = self._triggers.get(trigger_id)
        return trig is not None and trig.used

    def apply_view_ack(self, user_id: str, view_id: str, ack: dict[str, Any] | None) -> None:
        """Apply a view_submission ack to the user's modal stack the way Slack does."""
        stack = self._modal_stacks.setdefault(user_id, [])
        fv = self._views.get(view_id)
        action = (ack or {}).get("response_action")
        if action == "errors":
            if fv is not None:
                fv.errors = dict(ack.get("errors") or {})  # type: ignore[union-attr]
            return
        if fv is not None:
            fv.errors = None
        if action == "update":
            self._check_view(ack["view"], where="response_action update")  # type: ignore[index]
            self._replace_view(view_id, ack["view"])  # type: ignore[index]
        elif action == "push":
            self._check_view(ack["view"], where="response_action push")  # type: ignore[index]
            if len(stack) >= VIEW_STACK_LIMIT:
                self.violations.append("response_action push: push_limit_reached")
                return
            root = self._views[stack[0]].data["id"] if stack else None
            self._create_view(ack["view"], user_id, root=root, previous=view_id)  # type: ignore[index]
        elif action == "clear":
            self._close_stack(user_id)
        else:
            self.close_view(user_id, view_id)

    def close_view(self, user_id: str, view_id: str | None = None) -> None:
        stack = self._modal_stacks.get(user_id) or []
        if not stack:
            return
        vid = view_id or stack[-1]
        fv = self._views.get(vid)
        if fv is not None and fv.data.get("clear_on_close"):
            self._close_stack(user_id)
        elif vid in stack:
            del stack[stack.index(vid) :]

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> None:
        fv = self._views[view_id]
        fv.data["state"] = {"values": copy.deepcopy(values)}

    # ------------------------------------------------------------------ Web API: views.*

    def _views_open(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        view = args.get("view")
        trig = self._take_trigger(args.get("trigger_id"))
        self._check_view(view, where="views.open")
        if view.get("type") != "modal":  # type: ignore[union-attr]
            raise SlackError("invalid_arguments")
        # A new views.open replaces whatever modal the user had open.
        self._close_stack(trig.user)
        return {"view": self._create_view(view, trig.user)}  # type: ignore[arg-type]

    def _views_push(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        view = args.get("view")
        trig = self._take_trigger(args.get("trigger_id"))
        self._check_view(view, where="views.push")
        stack = self._modal_stacks.get(trig.user) or []
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= VIEW_STACK_LIMIT:
            raise SlackError("push_limit_reached")
        root = self._views[stack[0]].data["id"]
        return {"view": self._create_view(view, trig.user, root=root, previous=stack[-1])}  # type: ignore[arg-type]

    def _views_update(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        view = args.get("view")
        vid = args.get("view_id")
        if not vid and args.get("external_id"):
            vid = next(
                (k for k, v in self._views.items() if v.data["external_id"] == args["external_id"]), None
            )
        fv = self._views.get(str(vid or ""))
        if fv is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != fv.data["hash"]:
            raise SlackError("hash_conflict")
        self._check_view(view, where="views.update")
        return {"view": self._replace_view(fv.data["id"], view)}  # type: ignore[arg-type]

    def _views_publish(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        user = args.get("user_id")
        if not user or user not in self.users:
            raise SlackError("user_not_found")
        view = args.get("view")
        self._check_view(view, where="views.publish")
        if view.get("type") != "home":  # type: ignore[union-attr]
            raise SlackError("invalid_arguments")
        existing = self._homes.get(user)
        if existing:
            if args.get("hash") and args["hash"] != self._views[existing].data["hash"]:
                raise SlackError("hash_conflict")
            return {"view": self._replace_view(existing, view)}  # type: ignore[arg-type]
        data = self._create_view(view, user)  # type: ignore[arg-type]
        self._homes[user] = data["id"]
        return {"view": data}

    # ------------------------------------------------------------------ internals

    def _take_trigger(self, trigger_id: Any) -> Trigger:
        trig = self._triggers.get(str(trigger_id or ""))
        if trig is None:
            raise SlackError("invalid_trigger_id")
        if trig.used or self.clock() - trig.issued_at > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        trig.used = True
        return trig

    def _check_view(self, view: Any, *, where: str) -> None:
        errors = view_violations(view, where=where)
        if errors:
            self.violations.extend(errors)
            raise SlackError("invalid_arguments", response_metadata={"messages": errors}, errors=errors)

    def _close_stack(self, user_id: str) -> None:
        self._modal_stacks[user_id] = []

    def _view_hash(self) -> str:
        return f"{self.clock():.6f}.{secrets.token_hex(4)}"

    def _shape_view(self, view: dict[str, Any], *, vid: str, root: str | None, previous: str | None) -> dict:
        return {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": normalize_blocks(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "state": {"values": {}},
            "hash": self._view_hash(),
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous,
            "root_view_id": root or vid,
            "app_id": self.app_id,
            "external_id": view.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _create_view(
        self, view: dict[str, Any], user_id: str, *, root: str | None = None, previous: str | None = None
    ) -> dict[str, Any]:
        vid = self._new_id("V")
        data = self._shape_view(view, vid=vid, root=root, previous=previous)
        self._views[vid] = StoredView(data=data, user=user_id)
        if data["type"] == "modal":
            self._modal_stacks.setdefault(user_id, []).append(vid)
        return data

    def _replace_view(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        fv = self._views[view_id]
        old = fv.data
        fv.data = self._shape_view(
            view, vid=view_id, root=old["root_view_id"], previous=old["previous_view_id"]
        )
        fv.errors = None
        return fv.data
