"""`careerbot run` in one process and one event loop: Discord and Slack Socket Mode together, then SIGTERM.

The real discord.py client and slack-bolt Socket Mode handler, started by the
project's own start-up code, talk to the local fakes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

import adapters.slack_adapter
from adapters.run import run
from bot.config import BUNDLED_KNOWLEDGE, Settings
from bot.store import Store
from tests.fakes import discord_fake, slack_fake


async def test_one_process_serves_both_platforms_and_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with discord_fake.FakeDiscord() as discord, slack_fake.FakeSlack() as slack:
        discord.patch(monkeypatch)
        monkeypatch.setattr(
            adapters.slack_adapter, "AsyncWebClient", functools.partial(AsyncWebClient, base_url=slack.api_url)
        )
        settings = Settings(
            db_path=tmp_path / "log.db",
            knowledge_dir=BUNDLED_KNOWLEDGE,
            discord_token="fake.discord." + discord_fake.BOT_TOKEN,
            slack_bot_token=slack_fake.BOT_TOKEN,
            slack_app_token=slack_fake.APP_TOKEN,
        )
        bot = asyncio.create_task(run(settings))
        await discord.wait_identified(timeout=10)
        await slack.wait_socket_connected(timeout=10)

        await discord.dispatch("MESSAGE_CREATE", discord.message("do I need a PhD?", dm=True))
        reply = await discord.wait_for_request("POST", r"/channels/\d+/messages", timeout=10)
        assert reply.json["embeds"][0]["title"].startswith("Do I need a PhD")

        await slack.socket_send(
            "events_api", slack_fake.event_payload(slack_fake.dm_message("how much do ML engineers earn?"))
        )
        posted = await slack.wait_for_call("chat.postMessage", timeout=10)
        assert "earn" in posted.body["text"].lower() or posted.body.get("blocks")

        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(bot, timeout=10) == 0

    async with Store(tmp_path / "log.db") as store:
        rows = await store.fetch("SELECT platform, outcome FROM questions ORDER BY platform")
    assert [tuple(r) for r in rows] == [("discord", "answer"), ("slack", "answer")]
