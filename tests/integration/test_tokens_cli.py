"""`handoff tokens create|list|revoke`: the operator's way to a workspace's lead-API tokens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import build_parser, tokens_cmd
from bot.config import ConfigError, load_settings
from bot.domain.api_tokens import token_hash
from bot.storage.db import make_session_factory
from bot.storage.uow import UnitOfWork

TEAM = "T0TEAM"


async def _run(database_url: str, *argv: str) -> int:
    args = build_parser().parse_args(["tokens", *argv])
    assert args.func is tokens_cmd.run
    return await tokens_cmd.run(load_settings(database_url=database_url), args)


async def test_create_prints_the_token_once_and_stores_only_its_hash(
    engine: AsyncEngine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _run(database_url, "create", "hubspot", "--team-id", TEAM) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert re.fullmatch(r"hnd_[A-Za-z0-9_-]{43}", token) and "not shown again" in err and token not in err
    async with UnitOfWork(make_session_factory(engine)) as uow:
        [row] = await uow.api_tokens.for_team(TEAM)
    assert (row.name, row.team_id, row.created_by) == ("hubspot", TEAM, None)
    assert row.token_hash == token_hash(token) and token not in (row.token_hash, row.key_id)

    assert await _run(database_url, "create", "hubspot", "--team-id", TEAM) == 1
    assert "already active" in capsys.readouterr().err
    assert await _run(database_url, "create", "bad name!", "--team-id", TEAM) == 1
    assert "name:" in capsys.readouterr().err

    assert await _run(database_url, "list", "--team-id", TEAM) == 0
    listing = capsys.readouterr().out
    assert "hubspot" in listing and row.key_id in listing and "active" in listing and token not in listing

    assert await _run(database_url, "revoke", "hubspot", "--team-id", TEAM) == 0
    assert await _run(database_url, "revoke", "hubspot", "--team-id", TEAM) == 1
    assert "no active token" in capsys.readouterr().err
    assert await _run(database_url, "list", "--team-id", TEAM) == 0
    assert "revoked" in capsys.readouterr().out


async def test_without_a_workspace_it_asks_for_one(engine: AsyncEngine, database_url: str) -> None:
    with pytest.raises(ConfigError, match="--team-id"):
        await _run(database_url, "list")
