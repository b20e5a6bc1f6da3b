"""Measure the engine on labelled questions (the format of shared/eval/dev.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import ASKED_FOLDER, Knowledge, load_knowledge
from bot.models import Question, ReplyKind
from bot.service import Service


@dataclass(frozen=True, slots=True)
class Case:
    question: str
    expect: tuple[str, ...]
    kind: str = ""


@dataclass
class Report:
    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    false_answers: int = 0
    not_answered: int = 0
    suggested_right: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def false_answer_rate(self) -> float:
        return self.false_answers / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def suggestion_recall(self) -> float:
        return self.suggested_right / self.not_answered if self.not_answered else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_scope": self.in_scope,
            "top1_accuracy": round(self.accuracy, 4),
            "must_not_answer": self.out_of_scope,
            "false_answer_rate": round(self.false_answer_rate, 4),
            "not_answered_in_scope": self.not_answered,
            "suggestion_recall": round(self.suggestion_recall, 4),
            "misses": self.misses,
        }


def knowledge_for(folder: Path | str, labelled: Path | str) -> Knowledge:
    """The knowledge to measure a labelled file against: if the knowledge was taught from that very
    file (``knowledge/asked/``), it is left out, so its questions are measured as unseen ones."""
    path, asked = Path(labelled).resolve(), (Path(folder) / ASKED_FOLDER).resolve()
    return load_knowledge(folder, leave_out={path.name} if path.parent == asked else ())


def load_cases(path: Path | str) -> list[Case]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of {{q, expect}} items")
    return [Case(str(item["q"]), tuple(item.get("expect") or ()), str(item.get("kind", ""))) for item in data]


async def evaluate(service: Service, cases: list[Case]) -> Report:
    """Ask every question through the service (as users do, greetings included), without logging."""
    report = Report()
    for case in cases:
        match = await service.ask(Question(case.question, platform="eval"))
        got = match.entry.id if match.kind is ReplyKind.ANSWER and match.entry else None
        suggested = [e.id for e in match.suggestions]
        miss = {
            "q": case.question,
            "expect": list(case.expect),
            "kind": match.kind.value,
            "got": got,
            "suggestions": suggested,
            "score": match.score,
        }
        if case.expect:
            report.in_scope += 1
            if got in case.expect:
                report.correct += 1
                continue
            if match.kind is not ReplyKind.ANSWER:
                report.not_answered += 1
                if set(suggested) & set(case.expect):
                    report.suggested_right += 1
            report.misses.append(miss)
        else:
            report.out_of_scope += 1
            if match.kind is ReplyKind.ANSWER:
                report.false_answers += 1
                report.misses.append(miss)
    return report


def format_report(report: Report) -> str:
    lines = [
        f"in-scope top-1 accuracy: {report.accuracy:6.1%}  ({report.correct}/{report.in_scope})",
        f"false-answer rate:       {report.false_answer_rate:6.1%}  "
        f"({report.false_answers}/{report.out_of_scope} must-not-answer questions answered)",
        f"suggestion recall:       {report.suggestion_recall:6.1%}  "
        f"({report.suggested_right}/{report.not_answered} unanswered in-scope questions had the right suggestion)",
    ]
    if report.misses:
        lines.append("misses:")
        for m in report.misses:
            expect = ",".join(m["expect"]) or "(must not answer)"
            got = m["got"] or ("suggest " + ",".join(m["suggestions"]) if m["suggestions"] else m["kind"])
            lines.append(f"  [{m['score']:5.1f}] {m['q'][:90]!r}\n          expected {expect}; got {got}")
    return "\n".join(lines)
