"""Running for months: start-up checks, clean shutdown, live knowledge, crash safety, secrets kept out of logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from adapters.run import watch_knowledge
from bot.config import BUNDLED_KNOWLEDGE
from bot.knowledge import load_knowledge
from bot.logs import setup_logging
from bot.models import Question, ReplyKind
from bot.service import Service

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "DISCORD_", "SLACK_"))}
    return {**clean, "CAREERBOT_DB": str(tmp_path / "log.db"), "PYTHONUNBUFFERED": "1"}


def careerbot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- start-up checks ----------------------------------------------------------------------------


def test_run_without_credentials_names_the_variables_to_set(env: dict[str, str]) -> None:
    result = careerbot("run", env=env)
    assert result.returncode == 2
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        assert name in result.stderr


def test_malformed_token_is_refused_without_printing_it(env: dict[str, str]) -> None:
    result = careerbot("run", env={**env, "SLACK_BOT_TOKEN": "not-a-real-secret-123", "SLACK_APP_TOKEN": "xapp-1"})
    assert result.returncode == 2 and "SLACK_BOT_TOKEN must be a bot token" in result.stderr
    assert "not-a-real-secret-123" not in result.stderr + result.stdout


def test_broken_knowledge_stops_start_up(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "k"
    shutil.copytree(BUNDLED_KNOWLEDGE, folder)
    (folder / "work.yaml").write_text("entries:\n  - id: x\n    title: [broken\n")
    result = careerbot(
        "slack",
        env={**env, "CAREERBOT_KNOWLEDGE": str(folder), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
    )
    assert result.returncode == 1 and "work.yaml: invalid YAML" in result.stderr


def test_unwritable_database_path_stops_start_up(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "no-such-folder" / "log.db"
    result = careerbot(
        "slack", env={**env, "CAREERBOT_DB": str(bad), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    )
    assert result.returncode == 2 and "cannot open the question log" in result.stderr


# --- clean shutdown -----------------------------------------------------------------------------


def test_sigterm_shuts_down_cleanly_and_healthz_reports_state(env: dict[str, str]) -> None:
    port = free_port()
    run_env = {**env, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": str(port), "LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    health = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        assert health is not None, "the HTTP endpoint never came up"
        assert health["knowledge_version"] == load_knowledge(BUNDLED_KNOWLEDGE).version
        assert health["database"]["state"] == "ok"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert time.monotonic() - started < 5
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("stopped" in line["message"] for line in lines)


# --- live knowledge -----------------------------------------------------------------------------


async def test_edits_take_effect_live_and_broken_edits_are_rejected(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "k"
    shutil.copytree(BUNDLED_KNOWLEDGE, folder)
    service = Service(load_knowledge(folder))
    wake = asyncio.Event()
    watcher = asyncio.create_task(watch_knowledge(service, 0.05, wake))
    question = Question("what do zorbtastic ML gremlins earn")
    try:
        assert (await service.ask(question)).kind is not ReplyKind.ANSWER
        role = folder / "role.yaml"
        original = role.read_text()
        role.write_text(
            original.replace("    questions:\n", '    questions:\n      - "what do zorbtastic ML gremlins earn"\n', 1)
        )
        for _ in range(100):
            if (await service.ask(question)).kind is ReplyKind.ANSWER:
                break
            await asyncio.sleep(0.05)
        assert (await service.ask(question)).entry.id == "what-is-an-ml-engineer"

        good_version = service.knowledge.version
        with caplog.at_level(logging.ERROR):
            role.write_text("entries:\n  - id: [broken\n")
            await asyncio.sleep(0.4)
        assert service.knowledge.version == good_version
        assert (await service.ask(question)).entry.id == "what-is-an-ml-engineer"
        assert any(
            "knowledge change rejected" in r.getMessage() and "role.yaml" in r.getMessage() for r in caplog.records
        )
    finally:
        watcher.cancel()


async def test_a_new_asked_file_is_taught_live(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    shutil.copytree(BUNDLED_KNOWLEDGE, folder)
    service = Service(load_knowledge(folder))
    watcher = asyncio.create_task(watch_knowledge(service, 0.05, asyncio.Event()))
    question = Question("what do zorbtastic ML gremlins earn")
    try:
        assert (await service.ask(question)).kind is not ReplyKind.ANSWER
        await asyncio.sleep(0.2)  # the watcher has seen the folder as it was
        (folder / "asked" / "new.yaml").write_text(
            '- q: "what do zorbtastic ML gremlins earn"\n  expect: [salary-and-pay]\n'
        )
        for _ in range(100):
            if (await service.ask(question)).kind is ReplyKind.ANSWER:
                break
            await asyncio.sleep(0.05)
        assert (await service.ask(question)).entry.id == "salary-and-pay"
    finally:
        watcher.cancel()


# --- crash safety -------------------------------------------------------------------------------

WRITER = """
import asyncio, sys
from bot.store import Store, QuestionRecord, new_ref
async def main():
    store = await Store(sys.argv[1], flush_interval=0.001).open()
    i = 0
    while True:
        for _ in range(50):
            store.record(QuestionRecord(new_ref(), "crash", f"q{i}", f"q{i}", "unknown"))
            i += 1
        await asyncio.sleep(0.001)
asyncio.run(main())
"""


async def test_killed_mid_write_the_database_opens_intact(tmp_path: Path) -> None:
    from bot.store import Store

    db = tmp_path / "crash.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT)
    try:
        for _ in range(100):
            if db.exists() and sqlite3.connect(db).execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                break
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    async with Store(db) as store:
        assert (await store.fetch("PRAGMA integrity_check"))[0][0] == "ok"
        before = (await store.fetch("SELECT COUNT(*) FROM questions"))[0][0]
        assert before > 0
        store.record(__import__("bot.store", fromlist=["x"]).QuestionRecord("after", "t", "t", "t", "unknown"))
        assert await store.flush()
        assert (await store.fetch("SELECT COUNT(*) FROM questions"))[0][0] == before + 1


# --- logs ---------------------------------------------------------------------------------------


def test_tokens_never_reach_the_log(capsys) -> None:
    setup_logging("INFO", "text")
    log = logging.getLogger("careerbot.test")
    log.info("connecting with %s", "xoxb-1234-5678-abcdefSECRET")
    log.warning(
        "app token xapp-1-A0-123-secretvalue and discord MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz1234"
    )
    err = capsys.readouterr().err
    assert "SECRET" not in err and "secretvalue" not in err and "abcdefghijklmnopqrstuvwxyz1234" not in err
    assert err.count("[redacted]") == 3
