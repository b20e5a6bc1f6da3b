"""Answer quality on the team's own labelled questions: a regression guard, not a tuning target.

tests/eval/holdout*.yaml were written independently of the knowledge base (and
of each other). The bars sit a little under today's figures (`careerbot eval`),
so a change that makes the bot worse at answering, or quicker to answer
wrongly, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluate import evaluate, load_cases
from bot.knowledge import Knowledge
from bot.service import Service

EVAL = Path(__file__).parent / "eval"


@pytest.mark.parametrize("name", ["holdout.yaml", "holdout2.yaml"])
async def test_holdout_accuracy_and_false_answers(knowledge: Knowledge, name: str) -> None:
    report = await evaluate(Service(knowledge), load_cases(EVAL / name))
    assert report.in_scope >= 90 and report.out_of_scope >= 30
    assert report.accuracy >= 0.80, report.misses
    assert report.false_answer_rate <= 0.05, report.misses
