"""Print the engine's speed: per-question latency, index build time and memory, beside a brute-force scan.

    python bench/latency.py            # bundled knowledge + synthetic 1k / 10k / 100k alternate questions
    python bench/latency.py --quick    # bundled + 1k + 10k only

The brute-force column is rapidfuzz ``process.extractOne`` (WRatio) over every
preprocessed alternate question: what the engine's inverted index saves.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz, process, utils

from bot.config import BUNDLED_KNOWLEDGE
from bot.engine import Engine
from bot.evaluate import load_cases
from bot.knowledge import Knowledge, load_knowledge
from bot.models import Entry

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    """Resident memory of this process (Linux), to see what an index costs."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def synthetic(base: Knowledge, phrasings: int, seed: int = 7) -> Knowledge:
    """A knowledge base of ``phrasings`` alternate questions (10 per entry) in the bundled knowledge's vocabulary
    plus invented words, so that words are shared across entries the way real ones are."""
    rng = random.Random(seed)
    words = sorted({w for e in base.entries for q in e.questions for w in q.lower().split() if w.isalpha()})
    invented = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9))) for _ in range(phrasings // 4)]
    entries = []
    for i in range(phrasings // 10):
        topic = rng.sample(invented, 3)
        questions = tuple(
            " ".join(rng.sample(words, rng.randint(3, 7)) + rng.sample(topic, rng.randint(1, 2))) + f" {i}"
            for _ in range(10)
        )
        entries.append(Entry(f"synthetic-{i}", questions[0], questions[1:], "answer", base.entries[0].sources))
    return Knowledge(tuple(entries), base.sources, base.synonyms, f"synthetic-{phrasings}", base.folder)


def queries_for(knowledge: Knowledge, count: int, seed: int = 11) -> list[str]:
    """Real-looking questions: alternate questions with a word dropped and a typo, plus bundled eval questions."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = rng.choice(rng.choice(knowledge.entries).questions).split()
        if len(words) > 3:
            words.pop(rng.randrange(len(words)))
        w = rng.randrange(len(words))
        if len(words[w]) > 4:
            words[w] = words[w][:2] + words[w][3:]
        out.append(" ".join(words))
    return out


def measure(knowledge: Knowledge, queries: list[str], *, brute: bool) -> dict[str, float]:
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    engine = Engine(knowledge)
    build = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before
    engine.match(queries[0])
    timings = []
    for q in queries:
        t = time.perf_counter()
        engine.match(q)
        timings.append((time.perf_counter() - t) * 1000)
    result = {
        "build_s": build,
        "memory_mb": memory,
        **dict(zip(("median_ms", "p99_ms"), percentiles(timings), strict=True)),
    }
    if brute:
        choices = [utils.default_process(q) for e in knowledge.entries for q in (e.title, *e.questions)]
        scan = []
        for q in queries[:200]:
            t = time.perf_counter()
            process.extractOne(utils.default_process(q), choices, scorer=fuzz.WRatio, processor=None)
            scan.append((time.perf_counter() - t) * 1000)
        result["scan_median_ms"], result["scan_p99_ms"] = percentiles(scan)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-question knowledge base")
    args = parser.parse_args()
    bundled = load_knowledge(BUNDLED_KNOWLEDGE)
    eval_questions: list[str] = []
    for path in [*sorted((ROOT / "tests" / "eval").glob("*.yaml")), ROOT.parent / "shared" / "eval" / "dev.yaml"]:
        if path.exists():
            eval_questions += [case.question for case in load_cases(path)]
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    header = f"{'knowledge':<26}{'phrasings':>10}{'build s':>9}{'memory MB':>11}{'median ms':>11}{'p99 ms':>9}"
    print(header + f"{'scan median':>13}{'scan p99':>10}")
    rows = [("bundled", bundled, (eval_questions or queries_for(bundled, 500)) * 3)]
    rows += [(f"synthetic {n:,}", kb := synthetic(bundled, n), queries_for(kb, 1000)) for n in sizes]
    for name, knowledge, queries in rows:
        phrasings = sum(1 + len(e.questions) for e in knowledge.entries)
        r = measure(knowledge, queries, brute=True)
        print(
            f"{name:<26}{phrasings:>10,}{r['build_s']:>9.2f}{r['memory_mb']:>11.1f}{r['median_ms']:>11.3f}"
            f"{r['p99_ms']:>9.3f}{r['scan_median_ms']:>13.2f}{r['scan_p99_ms']:>10.2f}"
        )
    print("scan = rapidfuzz extractOne(WRatio) over every preprocessed alternate question, same queries (first 200)")


if __name__ == "__main__":
    main()
