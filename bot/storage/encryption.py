"""Installation tokens encrypted at rest: a wrapper around slack_sdk's store, not a replacement.

HANDOFF_ENCRYPTION_KEY holds one or more Fernet keys separated by commas; the first encrypts,
all decrypt. Rotate by putting a new key first (`NEW,OLD`), restarting, then running
`handoff rotate-tokens` (re-encrypts every stored token with the first key, and encrypts tokens
saved before encryption was turned on) before dropping the old key.
"""

from __future__ import annotations

import copy
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.config import Settings

PREFIX = "enc:v1:"
_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def make_cipher(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


class EncryptedInstallationStore(AsyncInstallationStore):
    def __init__(self, inner: AsyncInstallationStore, cipher: MultiFernet) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def logger(self) -> Any:
        return self.inner.logger

    def _seal(self, obj: Any) -> Any:
        obj = copy.copy(obj)  # Bolt keeps using the installation it handed us: leave it in clear
        for name in _TOKEN_FIELDS:
            value = getattr(obj, name, None)
            if value and not value.startswith(PREFIX):
                setattr(obj, name, PREFIX + self.cipher.encrypt(value.encode()).decode())
        return obj

    def _open(self, obj: Any) -> Any:
        if obj is None:
            return None
        for name in _TOKEN_FIELDS:
            value = getattr(obj, name, None)
            if value and value.startswith(PREFIX):
                try:
                    setattr(obj, name, self.cipher.decrypt(value[len(PREFIX) :].encode()).decode())
                except InvalidToken as exc:
                    raise RuntimeError(f"cannot decrypt {name}: wrong HANDOFF_ENCRYPTION_KEY?") from exc
        return obj

    async def async_save(self, installation: Installation) -> None:
        await self.inner.async_save(self._seal(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await self.inner.async_save_bot(self._seal(bot))

    async def async_find_bot(self, **kwargs: Any) -> Bot | None:
        return self._open(await self.inner.async_find_bot(**kwargs))

    async def async_find_installation(self, **kwargs: Any) -> Installation | None:
        return self._open(await self.inner.async_find_installation(**kwargs))

    async def async_delete_bot(self, **kwargs: Any) -> None:
        await self.inner.async_delete_bot(**kwargs)

    async def async_delete_installation(self, **kwargs: Any) -> None:
        await self.inner.async_delete_installation(**kwargs)

    async def async_delete_all(self, **kwargs: Any) -> None:
        await self.inner.async_delete_all(**kwargs)


def wrap_installation_store(store: AsyncInstallationStore, settings: Settings) -> AsyncInstallationStore:
    key = settings.secret("encryption_key")
    return EncryptedInstallationStore(store, make_cipher(key)) if key else store


async def rotate_tokens(engine: Any, cipher: MultiFernet) -> int:
    """Re-encrypt every stored token with the first key (and encrypt any still in clear).
    Returns how many values changed. Runs on the raw tables, so it needs no Slack calls."""
    from sqlalchemy import select, update

    from bot.storage.models import SLACK_BOTS, SLACK_INSTALLATIONS

    changed = 0
    async with engine.begin() as conn:
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            columns = [c for c in _TOKEN_FIELDS if c in table.c]
            rows = (await conn.execute(select(table.c.id, *(table.c[c] for c in columns)))).all()
            for row in rows:
                values = {}
                for name in columns:
                    value = getattr(row, name)
                    if not value:
                        continue
                    if value.startswith(PREFIX):
                        sealed = cipher.rotate(value[len(PREFIX) :].encode()).decode()
                    else:
                        sealed = cipher.encrypt(value.encode()).decode()
                    values[name] = PREFIX + sealed
                if values:
                    await conn.execute(update(table).where(table.c.id == row.id).values(**values))
                    changed += len(values)
    return changed


def seal(value: str, keys: str | None) -> str:
    """A secret we must read back (a webhook signing secret), encrypted when HANDOFF_ENCRYPTION_KEY
    is set; in clear otherwise, as installation tokens are."""
    if not keys:
        return value
    return PREFIX + make_cipher(keys).encrypt(value.encode()).decode()


def unseal(value: str, keys: str | None) -> str:
    if not value.startswith(PREFIX):
        return value
    if not keys:
        raise RuntimeError("a stored secret is encrypted but HANDOFF_ENCRYPTION_KEY is not set")
    try:
        return make_cipher(keys).decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError("cannot decrypt a stored secret: wrong HANDOFF_ENCRYPTION_KEY?") from exc
