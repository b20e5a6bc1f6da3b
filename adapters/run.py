"""One process for every configured platform: shared engine and store, live knowledge, clean shutdown.

This is the composition root (the only place that wires adapters to the core);
``careerbot run``, ``careerbot discord`` and ``careerbot slack`` all come here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.knowledge import KnowledgeError, knowledge_files, load_knowledge
from bot.service import Service
from bot.store import Store, StoreError

log = logging.getLogger("careerbot.run")

Serve = Callable[[Service, Settings], Awaitable[None]]
SHUTDOWN_GRACE = 5.0  # seconds a SIGTERM waits for questions in flight before closing connections


class StartupError(RuntimeError):
    """Something a maintainer must fix before the bot can start; the message says what."""


def check_tokens(settings: Settings) -> list[str]:
    """Problems with the shape of configured tokens, caught before connecting (the tokens are never printed)."""
    problems = []
    if settings.discord_token and (settings.discord_token.count(".") != 2 or " " in settings.discord_token):
        problems.append("DISCORD_TOKEN does not look like a Discord bot token (three dot-separated parts)")
    if settings.slack_bot_token and not settings.slack_bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    if settings.slack_app_token and not settings.slack_app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    return problems


def platforms_for(settings: Settings, wanted: set[str] | None = None, *, sync: bool = False) -> dict[str, Serve]:
    """The adapters whose credentials are configured (restricted to ``wanted`` if given)."""
    if problems := check_tokens(settings):
        raise StartupError("invalid configuration:\n  " + "\n  ".join(problems))
    found: dict[str, Serve] = {}
    missing: list[str] = []
    if wanted is None or "discord" in wanted:
        if settings.discord_token:
            from adapters.discord_adapter import serve as serve_discord

            found["discord"] = functools.partial(serve_discord, sync=sync)
        else:
            missing.append("Discord: set DISCORD_TOKEN")
    if wanted is None or "slack" in wanted:
        if settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret):
            from adapters.slack_adapter import serve as serve_slack

            found["slack"] = serve_slack
        else:
            missing.append(
                "Slack: set SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"
            )
    if not found:
        raise StartupError(
            "no platform is configured.\n  " + "\n  ".join(missing) + "\n(See README.md; "
            "`careerbot chat` needs no tokens.)"
        )
    for note in missing:
        log.info("not starting %s", note)
    return found


def knowledge_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in knowledge_files(folder))


async def watch_knowledge(service: Service, every: float, wake: asyncio.Event) -> None:
    """Reload the knowledge when its files change (polling) or when woken (SIGHUP); keep the last good one."""
    folder = Path(service.knowledge.folder)
    seen = None  # so an edit made while the bot was starting is not missed
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=every if every > 0 else None)
        forced = wake.is_set()
        wake.clear()
        current = knowledge_signature(folder)
        if current == seen and not forced:
            continue
        first, seen = seen is None, current
        try:
            before = service.knowledge.version
            knowledge = service.reload()
            if knowledge.version != before or not first:
                log.info("knowledge is version %s (%d entries)", knowledge.version, len(knowledge.entries))
        except KnowledgeError as exc:
            log.error("knowledge change rejected; still answering from version %s. %s", service.knowledge.version, exc)


async def purge_daily(store: Store, days: int) -> None:
    """Apply the retention period at start and then once a day."""
    while True:
        try:
            removed = await store.purge(timedelta(days=days))
            if removed:
                log.info("retention: purged %d questions older than %d days", removed, days)
        except Exception:  # never let housekeeping stop the bot
            log.exception("retention purge failed")
        await asyncio.sleep(24 * 3600)


def pid_file(settings: Settings) -> Path:
    return settings.db_path.with_suffix(".pid")


async def run(settings: Settings, wanted: set[str] | None = None, *, sync: bool = False) -> int:
    """Start every configured adapter and run until SIGTERM/SIGINT; exit 0 after a clean shutdown."""
    adapters = platforms_for(settings, wanted, sync=sync)
    knowledge = load_knowledge(settings.knowledge_dir)
    try:
        store = await Store(settings.db_path, salt=settings.salt).open()
    except StoreError as exc:
        raise StartupError(f"{exc}\n(set CAREERBOT_DB to a writable path)") from exc
    service = Service(knowledge, store)
    log.info(
        "careerbot starting: %s; knowledge %s (%d entries); log %s",
        ", ".join(adapters),
        knowledge.version,
        len(knowledge.entries),
        settings.db_path,
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reload_now = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_now.set)
    pid = pid_file(settings)
    with contextlib.suppress(OSError):
        pid.write_text(str(os.getpid()))
    tasks = {name: asyncio.create_task(serve(service, settings), name=name) for name, serve in adapters.items()}
    tasks["reload"] = asyncio.create_task(watch_knowledge(service, settings.reload_seconds, reload_now))
    tasks["retention"] = asyncio.create_task(purge_daily(store, settings.retention_days))
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopper, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and not t.cancelled() and t.exception()]
        for task in failed:
            log.error("%s stopped: %s", task.get_name(), task.exception())
        log.info("shutting down: letting %d question(s) in flight finish", service.in_flight)
        if not await service.drain(SHUTDOWN_GRACE):
            log.warning(
                "%d question(s) still in flight after %.0f s; stopping anyway", service.in_flight, SHUTDOWN_GRACE
            )
        return 1 if failed else 0
    finally:
        for task in (*tasks.values(), stopper):
            task.cancel()
        await asyncio.gather(*tasks.values(), stopper, return_exceptions=True)
        await store.close()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        with contextlib.suppress(OSError):
            pid.unlink()
        log.info("stopped; question log flushed (%d rows written this run)", store.written)
