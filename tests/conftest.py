"""Shared fixtures: the bundled knowledge, a service over a real SQLite log in a temp folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import BUNDLED_KNOWLEDGE
from bot.knowledge import Knowledge, load_knowledge
from bot.service import Service
from bot.store import Store

_KNOWLEDGE = load_knowledge(BUNDLED_KNOWLEDGE)


@pytest.fixture(autouse=True)
def _no_platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see real tokens, proxies or OAuth settings from the machine they run on."""
    import os

    for name in list(os.environ):
        if name.startswith(("SLACK_", "DISCORD_", "CAREERBOT_")) or name.lower() in {
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        }:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def knowledge() -> Knowledge:
    return _KNOWLEDGE


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "careerbot.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store(db_path, flush_interval=0.02).open()
    yield s
    await s.close()


@pytest.fixture
async def service(knowledge: Knowledge, store: Store) -> Service:
    return Service(knowledge, store)


@pytest.fixture
def held_feedback(service: Service, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """``service.feedback`` waits until the returned event is set: a button press kept in flight."""
    release = asyncio.Event()
    record = service.feedback

    async def held(**kwargs: Any) -> str:
        await release.wait()
        return await record(**kwargs)

    monkeypatch.setattr(service, "feedback", held)
    return release
