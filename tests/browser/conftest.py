"""Headless Chromium (Debian's package) driven by Selenium against a sandbox served from a thread.

The sandbox runs its own event loop in a background thread because Selenium's calls block: the
page's requests must be answered while the test waits for the browser. Skips cleanly when Chromium,
chromedriver or selenium is missing.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.config import load_settings
from bot.sandbox.server import Sandbox
from bot.storage.db import make_engine
from tests.conftest import truncate_all

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


class ThreadedSandbox:
    def __init__(self, database_url: str, state_dir: str) -> None:
        self.database_url = database_url
        self.state_dir = state_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sandbox", daemon=True)
        self.sandbox: Sandbox | None = None

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Sandbox:
        self.thread.start()

        async def boot() -> Sandbox:
            engine = make_engine(self.database_url)
            await truncate_all(engine)
            await engine.dispose()
            settings = load_settings(database_url=self.database_url)
            sandbox = Sandbox(settings=settings, port=0, state_path=Path(self.state_dir) / "slack.json")
            return await sandbox.start()

        self.sandbox = self.call(boot())
        return self.sandbox

    def stop(self) -> None:
        if self.sandbox is not None:
            self.call(self.sandbox.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[ThreadedSandbox]:
    with tempfile.TemporaryDirectory() as state_dir:
        server = ThreadedSandbox(database_url, state_dir)
        server.start()
        try:
            yield server
        finally:
            server.stop()
            assert server.sandbox is not None
            server.sandbox.fake.assert_no_violations()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


async def bot_listens_to(sandbox: Sandbox, payload: dict[str, Any]) -> bool:
    """Whether a listener of the real bot would take this interaction (matchers only read the body):
    how a step that needs a feature still being built knows to skip, and goes live once it lands."""
    assert sandbox.handoff is not None
    req = AsyncBoltRequest(
        body=urlencode({"payload": json.dumps(payload)}),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    for listener in sandbox.handoff.bolt._async_listeners:
        if await listener.async_matches(req=req, resp=BoltResponse(status=404)):
            return True
    return False


def listens_to_action(served: ThreadedSandbox, action_id: str) -> bool:
    body = {
        "type": "block_actions",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": "U0REP1"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1"}],
    }
    assert served.sandbox is not None
    return served.call(bot_listens_to(served.sandbox, body))


def listens_to_view(served: ThreadedSandbox, callback_id: str) -> bool:
    body = {
        "type": "view_submission",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": "U0REP1"},
        "view": {"type": "modal", "callback_id": callback_id, "state": {"values": {}}},
    }
    assert served.sandbox is not None
    return served.call(bot_listens_to(served.sandbox, body))
