"""PostgreSQL restarted under load: the bot reconnects (a pooled connection the server closed is
never handed out, bot/storage/db.py) and loses nothing.

Restarting the server cuts every connection on it, including other test runs', so this test is
opt-in: HANDOFF_TEST_PG_RESTART=1 (CI sets it; it runs last there). The outage lasts a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.config import Settings
from bot.sandbox.fake_slack.server import FakeSlack
from bot.storage.models import Outbox
from tests.conftest import SALES, is_postgres, make_settings, serve_bot
from tests.reliability.helpers import add_lead, card_counts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        os.environ.get("HANDOFF_TEST_PG_RESTART") != "1",
        reason="restarts the shared PostgreSQL server; set HANDOFF_TEST_PG_RESTART=1",
    ),
]


def restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    # a card per lead, as the test counts them: 300 leads in a few seconds would otherwise be a burst
    # (one summary and thread lines; the burst's own restart test is tests/reliability/test_bulk_kill.py)
    return make_settings(database_url, fake_slack, burst_window_seconds=0)


async def test_postgres_restart_under_load_loses_nothing(engine, fake_slack, settings, database_url) -> None:
    if not is_postgres(database_url):
        pytest.skip("a PostgreSQL test")
    async with serve_bot(engine, fake_slack, SystemClock(), settings) as bot:  # type: ignore[arg-type]
        await bot.handoff.start_background(run_scheduler=False)
        submitted: list[str] = []
        failures = 0

        async def flood() -> None:
            nonlocal failures
            for i in range(300):
                email = f"pg{i}@example.com"
                while True:  # a marketing system resends until it hears "ok"
                    try:
                        await add_lead(bot.handoff, email=email, name=f"Lead {i}")
                        break
                    except Exception:
                        failures += 1
                        await asyncio.sleep(0.2)
                submitted.append(email)

        flooding = asyncio.create_task(flood())
        while len(submitted) < 100:  # noqa: ASYNC110 - waiting for the flood to get going
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        await asyncio.to_thread(restart_postgres)
        outage = time.perf_counter() - started
        await asyncio.wait_for(flooding, timeout=90)

        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            try:
                async with bot.handoff.uow() as uow:
                    waiting = await uow.session.scalar(
                        select(func.count(Outbox.id)).where(Outbox.status.in_(["pending", "sending"]))
                    )
            except Exception:
                waiting = -1
            if waiting == 0:
                break
            await asyncio.sleep(0.25)
        counts = card_counts(bot.fake, [SALES])
        assert len(counts) == 300 and max(counts.values()) == 1
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{bot.url}/healthz") as resp:
                assert resp.status == 200
        print(f"\nPostgreSQL restart took {outage:.1f}s; {failures} intake attempts failed and were resent")
