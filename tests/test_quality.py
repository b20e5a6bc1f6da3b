"""Answer quality on the team's own labelled questions: a regression guard, not a tuning target.

tests/eval/holdout.yaml was written independently of the knowledge base. The
bars sit a little under today's figures (see `careerbot eval`), so a change
that makes the bot worse at answering, or quicker to answer wrongly, fails here.
"""

from __future__ import annotations

from pathlib import Path

from bot.evaluate import evaluate, load_cases
from bot.knowledge import Knowledge
from bot.service import Service

HOLDOUT = Path(__file__).parent / "eval" / "holdout.yaml"


async def test_holdout_accuracy_and_false_answers(knowledge: Knowledge) -> None:
    report = await evaluate(Service(knowledge), load_cases(HOLDOUT))
    assert report.in_scope >= 100 and report.out_of_scope >= 30
    assert report.accuracy >= 0.85, report.misses
    assert report.false_answer_rate <= 0.05, report.misses
