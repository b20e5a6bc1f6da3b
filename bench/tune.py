"""Fit the engine's answer/don't-answer decision on labelled questions, and show how well it transfers.

    python bench/tune.py ../shared/eval/dev.yaml knowledge/asked/*.yaml

Fits the logistic ``confidence_weights`` of ``bot.engine.Tuning`` on all files
together and finds the lowest threshold at which every file's false-answer rate stays
within ``--max-false``; ``--margin`` adds to it. A file the knowledge is taught from
(knowledge/asked/) is measured with itself left out, as the bot meets a new question.
Then it prints a leave-one-file-out cross-check: fitted on the other files, measured on
the one left out.

Read the cross-check with care: it flatters the bot. The off-topic cues in
knowledge/offtopic.yaml were written after reading many of these files' must-not-answer
questions, and files written from the same articles share phrasings, so their questions
look easier than a real user's. The honest figure is a file the bot was never taught
and nobody read before measuring it: tests/eval/*.yaml, with ``careerbot eval``.
Paste the printed values into ``Tuning`` when they are better there too.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import BUNDLED_KNOWLEDGE
from bot.engine import Engine
from bot.evaluate import Case, knowledge_for, load_cases
from bot.knowledge import load_knowledge
from bot.service import is_smalltalk
from bot.text import clean_message

Row = tuple[tuple[float, ...] | None, int, bool]  # features, top candidate right?, in scope?
# (features are None where no answer is given whatever the confidence: small talk, which the service
# answers with an intro; no candidate; or a near tie or too vague a question (``Tuning.clear_cut``))


def rows_for(engine: Engine, cases: list[Case]) -> list[Row]:
    rows: list[Row] = []
    for case in cases:
        text = clean_message(case.question)[0]
        ranking = engine.rank(text)
        ranked = ranking.candidates
        if not ranked or is_smalltalk(text):
            rows.append((None, 0, bool(case.expect)))
            continue
        right = int(ranked[0].entry.id in case.expect)
        evidence = engine.evidence(ranking)
        gated = not engine.tuning.clear_cut(evidence)
        rows.append((None if gated else evidence.features(), right, bool(case.expect)))
    return rows


def fit(rows: list[Row], *, l2: float = 0.01, steps: int = 3000, rate: float = 0.5) -> tuple[float, ...]:
    data = [(x, y) for x, y, _ in rows if x is not None]
    weights = [0.0] * len(data[0][0])
    for _ in range(steps):
        grad = [0.0] * len(weights)
        for x, y in data:
            p = 1 / (1 + math.exp(-sum(w * v for w, v in zip(weights, x, strict=True))))
            for i, v in enumerate(x):
                grad[i] += (p - y) * v
        for i in range(len(weights)):
            weights[i] -= rate * (grad[i] / len(data) + (l2 * weights[i] if i else 0.0))
    return tuple(round(w, 2) for w in weights)


def measure(weights: tuple[float, ...], rows: list[Row], threshold: float) -> tuple[float, float]:
    in_scope = correct = out = false = 0
    for x, right, scoped in rows:
        answered = (
            x is not None and 1 / (1 + math.exp(-sum(w * v for w, v in zip(weights, x, strict=True)))) >= threshold
        )
        if scoped:
            in_scope += 1
            correct += answered and right
        else:
            out += 1
            false += answered
    return correct / max(1, in_scope), false / max(1, out)


def pick_threshold(weights: tuple[float, ...], sets: list[list[Row]], max_false: float) -> float:
    """The lowest threshold at which every set's false-answer rate stays within ``max_false``."""
    for step in range(20, 96):
        threshold = step / 100
        if all(measure(weights, rows, threshold)[1] <= max_false for rows in sets):
            return threshold
    return 0.95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--max-false", type=float, default=0.05, help="false-answer rate to stay within, per file")
    parser.add_argument("--margin", type=float, default=0.0, help="added to the threshold, for questions not seen")
    args = parser.parse_args()
    engine = Engine(load_knowledge(BUNDLED_KNOWLEDGE))
    sets = {}
    for f in args.files:  # a file the knowledge is taught from is measured with itself left out
        knowledge = knowledge_for(BUNDLED_KNOWLEDGE, f)
        sets[f.name] = rows_for(Engine(knowledge) if knowledge.left_out else engine, load_cases(f))

    def decide(files: list[list[Row]]) -> tuple[tuple[float, ...], float]:
        weights = fit([r for rows in files for r in rows])
        return weights, round(pick_threshold(weights, files, args.max_false) + args.margin, 2)

    weights, threshold = decide(list(sets.values()))
    count = sum(map(len, sets.values()))
    print(f"fitted on all ({count} questions): confidence_weights={weights} answer_at={threshold}")
    for name, rows in sets.items():
        accuracy, false = measure(weights, rows, threshold)
        print(f"  {name:<14} in-scope top-1 {accuracy:6.1%}   false answers {false:6.1%}")
    if len(sets) > 1:
        print("cross-check (fitted on all the other files, measured on the one left out):")
        for name, rows in sets.items():
            w, t = decide([rs for other, rs in sets.items() if other != name])
            accuracy, false = measure(w, rows, t)
            print(f"  {name:<14} in-scope top-1 {accuracy:6.1%}   false answers {false:6.1%}   (answer_at {t})")


if __name__ == "__main__":
    main()
