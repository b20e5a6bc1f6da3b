"""The question log: every question asked, its outcome, and answer feedback, in SQLite (aiosqlite).

Writes never block or fail a reply. ``record`` and ``record_feedback`` only
queue a row; a background task writes queued rows in batches. When the
database is locked, read-only or full, rows stay queued (bounded), the error
is logged once with its cause, and writing resumes when the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import sqlite3
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    # 1: the question log
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        asked_at TEXT NOT NULL,
        platform TEXT NOT NULL,
        workspace_id TEXT,
        channel_id TEXT,
        user_hash TEXT,
        text TEXT NOT NULL,
        normalised TEXT NOT NULL,
        outcome TEXT NOT NULL,
        entry_id TEXT,
        score REAL NOT NULL DEFAULT 0,
        candidates TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: answer feedback and the maintainers' review status
    """
    ALTER TABLE questions ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
    CREATE INDEX questions_outcome_status ON questions (outcome, status);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        question_ref TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        platform TEXT NOT NULL,
        user_hash TEXT,
        given_at TEXT NOT NULL,
        UNIQUE (question_ref, user_hash)
    );
    CREATE INDEX feedback_entry ON feedback (entry_id, helpful);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_ref() -> str:
    """An id for a question, made before it is written, so buttons can carry it."""
    return secrets.token_hex(6)


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    ref: str
    platform: str
    text: str
    normalised: str
    outcome: str
    entry_id: str | None = None
    score: float = 0.0
    candidates: tuple[tuple[str, float], ...] = ()
    workspace_id: str | None = None
    channel_id: str | None = None
    user_hash: str | None = None
    asked_at: str = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    question_ref: str
    entry_id: str
    helpful: bool
    platform: str
    user_hash: str | None = None
    given_at: str = field(default_factory=utcnow)


class StoreError(RuntimeError):
    """The database cannot be opened or upgraded."""


class Store:
    def __init__(
        self,
        path: Path | str,
        *,
        salt: str | None = None,
        max_pending: int = 10_000,
        flush_interval: float = 0.2,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = str(path)
        self.max_pending = max_pending
        self.flush_interval = flush_interval
        self.busy_timeout = busy_timeout
        self._salt = salt
        self._db: aiosqlite.Connection | None = None
        self._questions: deque[QuestionRecord] = deque()
        self._feedback: deque[FeedbackRecord] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()
        self.dropped = 0
        self.last_error: str | None = None
        self.written = 0

    # --- life cycle -------------------------------------------------------------------------

    async def open(self, *, writer: bool = True) -> Store:
        folder = os.path.dirname(os.path.abspath(self.path))
        if self.path != ":memory:" and not os.path.isdir(folder):
            raise StoreError(f"cannot open the question log at {self.path}: folder {folder} does not exist")
        try:
            self._db = await aiosqlite.connect(self.path, timeout=self.busy_timeout)
            await self._db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._migrate()
            self._salt = self._salt or await self._stored_salt()
        except (sqlite3.Error, OSError) as exc:
            await self._close_db()
            raise StoreError(f"cannot open the question log at {self.path}: {exc}") from exc
        if writer:
            self._writer = asyncio.create_task(self._write_loop(), name="careerbot-store-writer")
        return self

    async def close(self) -> None:
        """Write what is queued (one last try), stop the writer, close the database."""
        if self._writer is not None:
            self._closing = True
            self._wake.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        await self.flush()
        if self.pending:
            log.error("closing the question log with %d rows unwritten: %s", self.pending, self.last_error)
        await self._close_db()

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(Exception):
                await self._db.close()
            self._db = None

    async def _migrate(self) -> None:
        assert self._db is not None
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {version}; this careerbot knows up to {SCHEMA_VERSION}")
        for number in range(version, SCHEMA_VERSION):
            await self._db.executescript(f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;")
            log.info("question log %s upgraded to schema version %d", self.path, number + 1)

    async def _stored_salt(self) -> str:
        assert self._db is not None
        async with self._db.execute("SELECT value FROM meta WHERE key = 'salt'") as cursor:
            row = await cursor.fetchone()
        if row:
            return str(row[0])
        salt = secrets.token_hex(16)
        await self._db.execute("INSERT INTO meta (key, value) VALUES ('salt', ?)", (salt,))
        await self._db.commit()
        return salt

    # --- writing ----------------------------------------------------------------------------

    def user_hash(self, platform: str, user_id: str | None) -> str | None:
        """A salted hash of a user id: counts distinct askers without storing who they are."""
        if not user_id:
            return None
        if self._salt is None:
            self._salt = secrets.token_hex(16)
        return hashlib.sha256(f"{self._salt}:{platform}:{user_id}".encode()).hexdigest()[:16]

    @property
    def pending(self) -> int:
        return len(self._questions) + len(self._feedback)

    def record(self, row: QuestionRecord) -> None:
        self._enqueue(self._questions, row)

    def record_feedback(self, row: FeedbackRecord) -> None:
        self._enqueue(self._feedback, row)

    def _enqueue(self, queue: deque[Any], row: object) -> None:
        if self.pending >= self.max_pending:
            (self._questions or self._feedback).popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("question log queue full (%d rows): dropped %d oldest rows", self.max_pending, self.dropped)
        queue.append(row)
        self._wake.set()

    async def _write_loop(self) -> None:
        delay = self.flush_interval
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            ok = await self.flush()
            delay = self.flush_interval if ok else min(max(delay * 2, 0.5), 10.0)

    async def flush(self) -> bool:
        """Write every queued row now. True when nothing is left queued.

        Shielded: a caller cancelled mid-write does not leave a transaction half done.
        """
        return await asyncio.shield(self._flush())

    async def _flush(self) -> bool:
        async with self._lock:
            if not self.pending:
                return True
            if self._db is None:
                return False
            questions, feedback = list(self._questions), list(self._feedback)
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                await self._db.executemany(
                    "INSERT OR IGNORE INTO questions (ref, asked_at, platform, workspace_id, channel_id, user_hash,"
                    " text, normalised, outcome, entry_id, score, candidates) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            q.ref,
                            q.asked_at,
                            q.platform,
                            q.workspace_id,
                            q.channel_id,
                            q.user_hash,
                            q.text,
                            q.normalised,
                            q.outcome,
                            q.entry_id,
                            q.score,
                            json.dumps(q.candidates),
                        )
                        for q in questions
                    ],
                )
                await self._db.executemany(
                    "INSERT INTO feedback (question_ref, entry_id, helpful, platform, user_hash, given_at)"
                    " VALUES (?,?,?,?,?,?) ON CONFLICT (question_ref, user_hash)"
                    " DO UPDATE SET helpful = excluded.helpful, given_at = excluded.given_at",
                    [
                        (f.question_ref, f.entry_id, int(f.helpful), f.platform, f.user_hash, f.given_at)
                        for f in feedback
                    ],
                )
                await self._db.commit()
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    await self._db.rollback()
                cause = f"{type(exc).__name__}: {exc}"
                if cause != self.last_error:
                    log.error(
                        "cannot write the question log (%s); %d rows kept in memory until it can", cause, self.pending
                    )
                self.last_error = cause
                return False
            for _ in questions:
                self._questions.popleft()
            for _ in feedback:
                self._feedback.popleft()
            self.written += len(questions) + len(feedback)
            if self.last_error:
                log.warning("question log writable again; wrote %d queued rows", len(questions) + len(feedback))
                self.last_error = None
            return not self.pending

    def health(self) -> dict[str, Any]:
        state = "closed" if self._db is None else ("degraded" if self.last_error else "ok")
        return {"state": state, "pending": self.pending, "dropped": self.dropped, "error": self.last_error}

    # --- reading and maintenance (the review tools) -----------------------------------------

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        assert self._db is not None, "store is not open"
        self._db.row_factory = sqlite3.Row
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        assert self._db is not None, "store is not open"
        cursor = await self._db.execute(sql, params)
        await self._db.commit()
        return cursor.rowcount

    async def set_status(self, refs: list[str], status: str) -> int:
        if status not in {"open", "resolved", "dismissed"}:
            raise ValueError(f"unknown status {status!r}")
        changed = 0
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            changed += await self.execute(f"UPDATE questions SET status = ? WHERE ref IN ({marks})", (status, *chunk))
        return changed

    async def purge(self, older_than: timedelta) -> int:
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        removed = await self.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,))
        await self.execute("DELETE FROM feedback WHERE given_at < ?", (cutoff,))
        return removed
