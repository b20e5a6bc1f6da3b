"""The one orchestrator every adapter talks to: a question in, a reply out, every question logged.

Adapters translate platform events into ``Question`` values and render the
``Reply`` they get back; they never decide what to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator

from bot import review
from bot.engine import Engine, Tuning
from bot.knowledge import Knowledge, load_knowledge
from bot.models import Entry, Question, Reply, ReplyKind
from bot.review import Cluster
from bot.store import FeedbackRecord, QuestionRecord, Store, new_ref
from bot.text import MAX_QUESTION_CHARS, clean_message, normalise

log = logging.getLogger(__name__)

_GREETING_WORDS = frozenset(
    """
    hi hello hey heya hiya yo howdy sup hola gm morning afternoon evening good there all everyone folks team
    guys people thanks thank thx ty cheers you so much bot careerbot bye goodbye night great awesome cool nice
    welcome hru how are doing ok okay is your day going up today hope well fine ya yall everybody hows week
    weekend was lol lmao haha hehe
    """.split()
)
_HELP = re.compile(
    r"^(?:/?help|what can you do|what do you do|what can i ask(?: you)?(?: about)?|what can you help(?: me)? with"
    r"|how do (?:i|you) use (?:you|this|this bot|careerbot)|how does this work"
    r"|who are you|what are you|commands|menu|start|usage)$"
)
_FILLER = frozenset("even actually really exactly just so then else here please pls plz ok okay um uh".split())
_INTRO_EXAMPLES = ("degree-requirements", "typical-day", "salary-and-pay", "breaking-in")


def is_smalltalk(text: str) -> bool:
    """A greeting, thanks, or a request for help: answered with an intro, never matched against the knowledge."""
    words = normalise(text).split()
    if not words or all(w in _GREETING_WORDS for w in words):
        return True
    while len(words) > 1 and words[0] in _GREETING_WORDS:  # "hey bot, what can you do"
        words = words[1:]
    return bool(_HELP.match(" ".join(w for w in words if w not in _FILLER)))


PICKED = "picked"  # logged outcome of an entry chosen from a button or menu, kept out of the answer rate
UNKNOWN_TEXT = (
    "I don't know that one yet, sorry. I answer questions about careers in machine learning "
    "(the role, skills, pay, degrees, day-to-day work, getting in), and I've logged your question "
    "so the maintainers can teach me."
)
SUGGEST_TEXT = "I'm not sure I understood. Did you mean one of these?"
GREETING_TEXT = (
    "Hi! I'm careerbot. I answer questions about working in machine learning, using four articles "
    "written by people in and around the field, and I tell you which article each answer comes from."
)
EMPTY_TEXT = "Ask me a question about machine-learning careers, for example:"
TRUNCATED_NOTE = f"(Your message was long, so I read only its first {MAX_QUESTION_CHARS} characters.)"


class Service:
    """Answers questions from the current knowledge and logs them through the store."""

    def __init__(self, knowledge: Knowledge, store: Store | None = None, *, tuning: Tuning | None = None) -> None:
        self.tuning = tuning
        self.engine = Engine(knowledge, tuning)
        self.store = store
        self.popularity: Counter[str] = Counter()  # entries answered since start, for an empty autocomplete
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def handling(self) -> AsyncIterator[None]:
        """Adapters wrap the handling of each platform event in this, so a shutdown can let it finish."""
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until no event is being handled; True if none is."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def knowledge(self) -> Knowledge:
        return self.engine.knowledge

    def reload(self) -> Knowledge:
        """Load the knowledge folder again and swap it in; on any error keep the current one and raise."""
        knowledge = load_knowledge(self.knowledge.folder)
        if knowledge.version != self.knowledge.version:
            self.engine = Engine(knowledge, self.tuning)
            log.info("knowledge reloaded: version %s, %d entries", knowledge.version, len(knowledge.entries))
        return knowledge

    # --- questions ------------------------------------------------------------------------

    async def ask(self, question: Question) -> Reply:
        started = time.perf_counter()
        text, truncated = clean_message(question.text)
        engine = self.engine
        ref = new_ref()
        if is_smalltalk(text):
            reply = self._intro(text, ref, truncated)
            match_normalised, candidates = normalise(text), ()
        else:
            match = engine.match(text)
            match_normalised, candidates = match.normalised, match.candidates
            if match.kind is ReplyKind.ANSWER and match.entry is not None:
                reply = Reply(
                    ReplyKind.ANSWER,
                    text,
                    match.entry.answer,
                    ref,
                    entry=match.entry,
                    score=match.score,
                    related=self._entries(match.entry.related),
                    truncated=truncated,
                )
            elif match.kind is ReplyKind.SUGGEST:
                reply = Reply(
                    ReplyKind.SUGGEST,
                    text,
                    SUGGEST_TEXT,
                    ref,
                    score=match.score,
                    suggestions=match.suggestions,
                    truncated=truncated,
                )
            else:
                reply = Reply(
                    ReplyKind.UNKNOWN,
                    text,
                    UNKNOWN_TEXT,
                    ref,
                    score=match.score,
                    truncated=truncated,
                    examples=self._examples(),
                )
        self._log(question, reply, match_normalised, [(c.entry.id, c.score) for c in candidates[:5]])
        if reply.entry is not None:
            self.popularity[reply.entry.id] += 1
        log.info(
            "question platform=%s outcome=%s entry=%s score=%.1f ms=%.2f",
            question.platform,
            reply.kind.value,
            reply.entry.id if reply.entry else "-",
            reply.score,
            (time.perf_counter() - started) * 1000,
        )
        return reply

    async def pick(self, entry_id: str, question: Question) -> Reply | None:
        """The answer of an entry someone picked (a suggestion, a related question or a topic)."""
        entry = self.entry(entry_id)
        if entry is None:
            return None
        reply = Reply(
            ReplyKind.ANSWER,
            entry.title,
            entry.answer,
            new_ref(),
            entry=entry,
            score=100.0,
            related=self._entries(entry.related),
        )
        self._log(
            Question(entry.title, question.platform, question.user_id, question.channel_id, question.workspace_id),
            reply,
            entry.id,
            [],
            outcome=PICKED,
        )
        self.popularity[entry.id] += 1
        return reply

    async def feedback(self, *, ref: str, entry_id: str, helpful: bool, platform: str, user_id: str | None) -> str:
        """Record a helpful / not helpful press; returns the acknowledgement to show the presser."""
        if self.store is not None:
            try:
                self.store.record_feedback(
                    FeedbackRecord(ref, entry_id, helpful, platform, self.store.user_hash(platform, user_id))
                )
            except Exception:  # logging must never stop the bot
                log.exception("could not queue feedback")
        log.info("feedback platform=%s entry=%s helpful=%s", platform, entry_id, helpful)
        return (
            "Thanks, glad it helped!" if helpful else "Thanks for telling me. The maintainers will look at this answer."
        )

    def _log(
        self,
        question: Question,
        reply: Reply,
        normalised_text: str,
        candidates: list[tuple[str, float]],
        *,
        outcome: str | None = None,
    ) -> None:
        if self.store is None:
            return
        try:
            self.store.record(
                QuestionRecord(
                    ref=reply.ref,
                    platform=question.platform,
                    text=question.text[:4000],
                    normalised=normalised_text,
                    outcome=outcome or reply.kind.value,
                    entry_id=reply.entry.id if reply.entry else None,
                    score=reply.score,
                    candidates=tuple(candidates),
                    workspace_id=question.workspace_id,
                    channel_id=question.channel_id,
                    user_hash=self.store.user_hash(question.platform, question.user_id),
                )
            )
        except Exception:  # logging must never stop the bot
            log.exception("could not queue a question for the log")

    # --- small talk -----------------------------------------------------------------------

    def _intro(self, text: str, ref: str, truncated: bool) -> Reply:
        body = GREETING_TEXT if normalise(text) else EMPTY_TEXT
        return Reply(ReplyKind.GREETING, text, body, ref, truncated=truncated, examples=self._examples())

    def _examples(self) -> tuple[Entry, ...]:
        return self._entries(_INTRO_EXAMPLES) or self.knowledge.entries[:4]

    # --- lookups for adapters -------------------------------------------------------------

    def entry(self, entry_id: str) -> Entry | None:
        return self.knowledge.get(entry_id)

    def _entries(self, ids: tuple[str, ...] | list[str]) -> tuple[Entry, ...]:
        return tuple(e for e in (self.knowledge.get(i) for i in ids) if e is not None)

    async def unanswered(self, limit: int = 5) -> list[Cluster]:
        """The most frequent open clusters of unanswered questions (for maintainer commands)."""
        if self.store is None:
            return []
        await self.store.flush()  # include what was asked a moment ago
        return (await review.clusters(self.store))[:limit]

    async def stats(self) -> review.Stats | None:
        if self.store is None:
            return None
        await self.store.flush()
        return await review.stats(self.store)

    def topics(self) -> tuple[Entry, ...]:
        return self.knowledge.entries

    def complete(self, partial: str, limit: int = 25) -> list[Entry]:
        """Entries to offer while someone types a question (autocomplete)."""
        text, _ = clean_message(partial)
        if not text:
            order = {e.id: i for i, e in enumerate(self.knowledge.entries)}
            popular = sorted(self.knowledge.entries, key=lambda e: (-self.popularity[e.id], order[e.id]))
            return popular[:limit]
        return self.engine.complete(text, limit)
