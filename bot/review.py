"""The maintainers' view of the question log: clusters of unanswered or low-rated questions, and stats."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, process

from bot.store import Store

SIMILAR_AT = 80.0


@dataclass
class Cluster:
    """Near-duplicate questions that went unanswered (or were rated not helpful)."""

    id: str
    representative: str
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    platforms: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    best_guesses: list[dict[str, Any]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("refs")
        return data


def parse_age(text: str) -> timedelta:
    """'90d', '12h', '2w' or a plain number of days."""
    text = text.strip().lower()
    units = {"d": 1.0, "w": 7.0, "h": 1 / 24, "m": 1 / 1440}
    try:
        if text and text[-1] in units:
            return timedelta(days=float(text[:-1]) * units[text[-1]])
        return timedelta(days=float(text))
    except ValueError:
        raise ValueError(f"not an age: {text!r} (use e.g. 90d, 2w, 12h)") from None


def _filters(since: timedelta | None, platform: str | None, prefix: str = "") -> tuple[list[str], list[Any]]:
    """SQL conditions (always at least one) and parameters for the --since / --platform options."""
    where, params = ["1 = 1"], []
    if since is not None:
        where.append(f"{prefix}asked_at >= ?")
        params.append((datetime.now(UTC) - since).isoformat(timespec="seconds"))
    if platform:
        where.append(f"{prefix}platform = ?")
        params.append(platform)
    return where, params


async def review_rows(
    store: Store, *, since: timedelta | None = None, platform: str | None = None, status: str = "open"
) -> list[Any]:
    """Questions the bot could not answer, plus answered ones someone rated not helpful."""
    where, params = _filters(since, platform, prefix="q.")
    where.append("(q.outcome IN ('unknown', 'suggest') OR f.helpful = 0)")
    if status != "all":
        where.append("q.status = ?")
        params.append(status)
    sql = (
        "SELECT DISTINCT q.ref, q.asked_at, q.platform, q.text, q.normalised, q.outcome, q.candidates"
        " FROM questions q LEFT JOIN feedback f ON f.question_ref = q.ref AND f.helpful = 0"
        f" WHERE {' AND '.join(where)} ORDER BY q.asked_at, q.id"
    )
    return await store.fetch(sql, tuple(params))


def cluster_rows(rows: list[Any]) -> list[Cluster]:
    """Group near-duplicate questions (rapidfuzz token-sort similarity of their normalised text; token-set
    would put every question that contains "ml" with a question that is only "ml")."""
    clusters: list[Cluster] = []
    keys: list[str] = []
    guesses: list[Counter[str]] = []
    for row in rows:
        key = row["normalised"] or row["text"].casefold()
        found = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILAR_AT) if keys else None
        if found is None:
            cid = hashlib.sha1(key.encode()).hexdigest()[:6]
            clusters.append(Cluster(cid, row["text"], first_seen=row["asked_at"]))
            keys.append(key)
            guesses.append(Counter())
            index = len(clusters) - 1
        else:
            index = found[2]
        cluster = clusters[index]
        cluster.count += 1
        cluster.last_seen = row["asked_at"]
        cluster.refs.append(row["ref"])
        cluster.outcomes[row["outcome"]] = cluster.outcomes.get(row["outcome"], 0) + 1
        if row["platform"] not in cluster.platforms:
            cluster.platforms.append(row["platform"])
        if row["text"] not in cluster.questions:
            cluster.questions.append(row["text"])
        for entry_id, score in json.loads(row["candidates"] or "[]")[:3]:
            guesses[index][entry_id] += score
    for cluster, counter in zip(clusters, guesses, strict=True):
        cluster.best_guesses = [
            {"entry_id": eid, "score": round(total / cluster.count, 1)} for eid, total in counter.most_common(3)
        ]
    clusters.sort(key=lambda c: (-c.count, c.last_seen), reverse=False)
    return clusters


async def clusters(
    store: Store, *, since: timedelta | None = None, platform: str | None = None, status: str = "open"
) -> list[Cluster]:
    return cluster_rows(await review_rows(store, since=since, platform=platform, status=status))


async def find_cluster(store: Store, cluster_id: str) -> Cluster:
    for cluster in await clusters(store, status="open"):
        if cluster.id == cluster_id:
            return cluster
    raise LookupError(f"no open cluster {cluster_id!r} (see `careerbot review`)")


# --- stats --------------------------------------------------------------------------------------


@dataclass
class Stats:
    total: int
    outcomes: dict[str, int]
    by_period: list[dict[str, Any]]
    by_platform: dict[str, dict[str, int]]
    top_entries: list[tuple[str, int]]
    not_helpful: list[tuple[str, int, int]]

    def rate(self, outcome: str) -> float:
        """Share of real questions (not greetings, not entries picked from a button) with this outcome."""
        asked = sum(self.outcomes.get(k, 0) for k in ("answer", "suggest", "unknown"))
        return self.outcomes.get(outcome, 0) / asked if asked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "outcomes": self.outcomes,
            "answer_rate": round(self.rate("answer"), 4),
            "suggest_rate": round(self.rate("suggest"), 4),
            "unknown_rate": round(self.rate("unknown"), 4),
            "by_period": self.by_period,
            "by_platform": self.by_platform,
            "top_entries": [{"entry_id": e, "count": n} for e, n in self.top_entries],
            "not_helpful": [{"entry_id": e, "not_helpful": n, "ratings": r} for e, n, r in self.not_helpful],
        }


async def stats(
    store: Store, *, since: timedelta | None = None, platform: str | None = None, period: str = "day"
) -> Stats:
    where, params = _filters(since, platform)
    clause = " AND ".join(where)
    bucket = "substr(asked_at, 1, 10)" if period == "day" else "strftime('%Y-W%W', asked_at)"
    rows = await store.fetch(
        f"SELECT {bucket} AS period, platform, outcome, entry_id, COUNT(*) AS n FROM questions WHERE {clause}"
        " GROUP BY period, platform, outcome, entry_id",
        tuple(params),
    )
    outcomes: Counter[str] = Counter()
    periods: dict[str, Counter[str]] = defaultdict(Counter)
    platforms: dict[str, Counter[str]] = defaultdict(Counter)
    entries: Counter[str] = Counter()
    for row in rows:
        outcomes[row["outcome"]] += row["n"]
        periods[row["period"]][row["outcome"]] += row["n"]
        platforms[row["platform"]][row["outcome"]] += row["n"]
        if row["entry_id"]:
            entries[row["entry_id"]] += row["n"]
    ratings = await store.fetch(
        "SELECT entry_id, SUM(helpful = 0) AS bad, COUNT(*) AS n FROM feedback GROUP BY entry_id"
        " HAVING bad > 0 ORDER BY bad DESC, n LIMIT 10"
    )
    return Stats(
        total=sum(outcomes.values()),
        outcomes=dict(outcomes),
        by_period=[{"period": p, **dict(c)} for p, c in sorted(periods.items())],
        by_platform={p: dict(c) for p, c in sorted(platforms.items())},
        top_entries=entries.most_common(10),
        not_helpful=[(r["entry_id"], int(r["bad"]), int(r["n"])) for r in ratings],
    )


# --- plain-text rendering (terminal, and maintainer commands in chat) ---------------------------

BAR = "█"


def bar(value: float, width: int = 24) -> str:
    filled = round(max(0.0, min(1.0, value)) * width)
    return BAR * filled + "·" * (width - filled)


def format_clusters(found: list[Cluster], limit: int | None = None) -> str:
    if not found:
        return "Nothing waiting for review: every logged question was answered (or has been reviewed)."
    lines = []
    for c in found[:limit]:
        guesses = ", ".join(f"{g['entry_id']} ({g['score']:.0f})" for g in c.best_guesses) or "none"
        lines.append(f"[{c.id}] ×{c.count}  “{c.representative[:100]}”")
        lines.append(
            f"         {c.first_seen[:10]} → {c.last_seen[:10]} on {', '.join(c.platforms)}; best guesses: {guesses}"
        )
    if limit is not None and len(found) > limit:
        lines.append(f"… and {len(found) - limit} more clusters")
    return "\n".join(lines)


def format_stats(s: Stats) -> str:
    if not s.total:
        return "No questions logged yet."
    lines = [
        f"{s.total} questions: answered {s.rate('answer'):.0%}, suggested {s.rate('suggest'):.0%}, "
        f"unknown {s.rate('unknown'):.0%} (greetings and picked entries excluded)",
        "",
        "answer rate by period:",
    ]
    for row in s.by_period[-14:]:
        asked = sum(row.get(k, 0) for k in ("answer", "suggest", "unknown"))
        answered = row.get("answer", 0)
        rate = answered / asked if asked else 0.0
        lines.append(f"  {row['period']}  {bar(rate)} {rate:4.0%}  of {asked}")
    lines.append("per platform:")
    for platform, counts in s.by_platform.items():
        lines.append(f"  {platform:<8} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if s.top_entries:
        lines.append("most asked entries:")
        top = s.top_entries[0][1]
        lines += [f"  {bar(n / top, 12)} {n:>5}  {eid}" for eid, n in s.top_entries]
    if s.not_helpful:
        lines.append("most often rated not helpful:")
        lines += [f"  {bad:>3} of {n:<3} {eid}" for eid, bad, n in s.not_helpful]
    return "\n".join(lines)
