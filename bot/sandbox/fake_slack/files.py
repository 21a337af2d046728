"""File uploads as Slack does them now: getUploadURLExternal, the upload, completeUploadExternal."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.fake_slack.models import SlackError, UploadedFile
from bot.sandbox.fake_slack.state import SlackState


class FilesMethods(SlackState):
    """files.* handlers and the upload endpoint; a file shows up once its upload is completed."""

    # ------------------------------------------------------------------ human-view helpers

    @property
    def files(self) -> list[UploadedFile]:
        return [f for f in self.uploaded.values() if f.completed]

    # ------------------------------------------------------------------ Web API: files.*

    def _files_get_upload_url(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        if not args.get("filename"):
            raise SlackError("invalid_arguments")
        try:
            length = int(args.get("length"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise SlackError("invalid_arguments") from e
        fid = self._new_id("F")
        self.uploaded[fid] = UploadedFile(
            id=fid, filename=str(args["filename"]), length=length, alt_txt=args.get("alt_txt")
        )
        return {"upload_url": f"{self.url}upload/v1/{fid}", "file_id": fid}

    def _files_complete_upload(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        chosen: list[UploadedFile] = []
        for item in files:
            up = self.uploaded.get(str(item.get("id")))
            if up is None or up.content is None:
                raise SlackError("file_not_found")
            up.title = item.get("title") or up.filename
            chosen.append(up)
        channel_id = args.get("channel_id") or (str(args.get("channels") or "").split(",")[0] or None)
        thread_ts = args.get("thread_ts")
        ch = None
        if channel_id:
            ch = self._resolve_channel(channel_id, for_post=True)
            self._check_can_post(ch)
            if thread_ts and self.message(ch.id, str(thread_ts)) is None:
                raise SlackError("invalid_thread_ts")
        for up in chosen:
            up.completed = True
            up.channel = ch.id if ch else None
            up.thread_ts = thread_ts
            up.initial_comment = args.get("initial_comment")
        if ch is not None:
            payload = {"text": args.get("initial_comment") or "", "thread_ts": thread_ts}
            self._store_message(
                ch.id,
                payload,
                user=self.bot_user_id,
                bot=True,
                files=[f.to_dict() for f in chosen],
                subtype=None,
            )
        return {"files": [{"id": f.id, "title": f.title} for f in chosen]}

    # ------------------------------------------------------------------ HTTP: the upload URL

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        up = self.uploaded.get(request.match_info["file_id"])
        data = await request.read()
        if up is None:
            return web.Response(status=404, text="file_not_found")
        up.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")
