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
# answers with an intro; no candidate; or an answer withheld whatever the confidence (``Tuning.withheld``))


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
        gated = bool(engine.tuning.withheld(evidence))
        rows.append((None if gated else evidence.features(), right, bool(case.expect)))
    return rows


def fit(rows: list[Row], *, l2: float = 0.01, steps: int = 25) -> tuple[float, ...]:
    """Logistic regression by Newton's method (L2 on every weight but the intercept): exact in a few steps."""
    data = [(x, y) for x, y, _ in rows if x is not None]
    n, k = len(data), len(data[0][0])
    weights = [0.0] * k
    for _ in range(steps):
        grad = [l2 * w if i else 0.0 for i, w in enumerate(weights)]
        hess = [[l2 if i == j and i else 0.0 for j in range(k)] for i in range(k)]
        for x, y in data:
            p = 1 / (1 + math.exp(-max(-50.0, min(50.0, sum(w * v for w, v in zip(weights, x, strict=True))))))
            r, c = (p - y) / n, p * (1 - p) / n
            for i in range(k):
                grad[i] += r * x[i]
                row, cx = hess[i], c * x[i]
                for j in range(i + 1):
                    row[j] += cx * x[j]
        for i in range(k):
            for j in range(i):
                hess[j][i] = hess[i][j]
        step = _solve(hess, grad)
        weights = [w - d for w, d in zip(weights, step, strict=True)]
        if max(map(abs, step)) < 1e-6:
            break
    return tuple(round(w, 2) for w in weights)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve a x = b by Gaussian elimination with partial pivoting (a is small and positive definite)."""
    k = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, k):
            f = m[r][col] / m[col][col]
            for c in range(col, k + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * k
    for r in reversed(range(k)):
        x[r] = (m[r][k] - sum(m[r][c] * x[c] for c in range(r + 1, k))) / m[r][r]
    return x


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
    report({name: (weights, threshold) for name in sets}, sets)
    if len(sets) > 1:
        print("cross-check (fitted on all the other files, measured on the one left out):")
        report({name: decide([rs for other, rs in sets.items() if other != name]) for name in sets}, sets)


def report(decisions: dict[str, tuple[tuple[float, ...], float]], sets: dict[str, list[Row]]) -> None:
    """Each file's figures under its decision, then all files pooled."""
    right = in_scope = false = out = 0.0
    for name, rows in sets.items():
        weights, threshold = decisions[name]
        accuracy, false_rate = measure(weights, rows, threshold)
        print(
            f"  {name:<14} in-scope top-1 {accuracy:6.1%}   false answers {false_rate:6.1%}   (answer_at {threshold})"
        )
        n_in = sum(1 for _, _, scoped in rows if scoped)
        right, in_scope = right + accuracy * n_in, in_scope + n_in
        false, out = false + false_rate * (len(rows) - n_in), out + len(rows) - n_in
    print(
        f"  {'pooled':<14} in-scope top-1 {right / in_scope:6.1%} ({round(right)}/{round(in_scope)})   "
        f"false answers {false / max(1, out):6.1%} ({round(false)}/{round(out)})"
    )


if __name__ == "__main__":
    main()
