"""The values that travel between adapters, the service, the engine and the store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Source:
    """An article the knowledge is written from."""

    id: str
    title: str
    author: str | None = None
    date: str | None = None

    def cite(self) -> str:
        return f"“{self.title}” by {self.author}" if self.author else f"“{self.title}”"


@dataclass(frozen=True, slots=True)
class Entry:
    """One answer in the knowledge base, with every way people ask for it."""

    id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    sources: tuple[Source, ...]
    keywords: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    file: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    """A question as an adapter hands it to the service."""

    text: str
    platform: str = "console"
    user_id: str | None = None
    channel_id: str | None = None
    workspace_id: str | None = None


class ReplyKind(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    UNKNOWN = "unknown"
    GREETING = "greeting"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry the engine considered, with its score (0-100)."""

    entry: Entry
    score: float
    phrasing: float = 0.0  # how well its closest alternate question matches (0-1)
    coverage: float = 0.0  # how much of the question the entry as a whole explains (0-1)
    matched: float = 0.0  # the score from content words alone, before the whole wording weighs in (0-100)


@dataclass(frozen=True, slots=True)
class Match:
    """What the engine decided for one question, and why."""

    kind: ReplyKind
    normalised: str
    candidates: tuple[Candidate, ...]
    reason: str
    entry: Entry | None = None
    suggestions: tuple[Entry, ...] = ()

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0


@dataclass(frozen=True, slots=True)
class Reply:
    """What every adapter renders: an answer, suggestions, an honest "don't know", or a greeting."""

    kind: ReplyKind
    question: str
    text: str
    ref: str
    entry: Entry | None = None
    score: float = 0.0
    suggestions: tuple[Entry, ...] = ()
    related: tuple[Entry, ...] = ()
    truncated: bool = False
    examples: tuple[Entry, ...] = ()  # questions to try, with a greeting or a "don't know"
