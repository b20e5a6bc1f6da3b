"""Grouping the unanswered questions for review (the CLI and the store are exercised in test_cli/test_store)."""

from __future__ import annotations

from typing import Any

from bot.review import cluster_rows


def _rows(*questions: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ref": f"r{i}",
            "asked_at": f"2026-11-0{i + 1}T10:00:00",
            "platform": "chat",
            "text": text,
            "normalised": normalised,
            "outcome": "unknown",
            "candidates": "[]",
        }
        for i, (text, normalised) in enumerate(questions)
    ]


def test_near_duplicates_share_a_cluster_and_a_vague_question_swallows_nothing() -> None:
    clusters = cluster_rows(
        _rows(
            ("ml", "ml"),
            ("what does a dentist earn in ML money", "dentist earn ml"),
            ("name for my ml cat?", "name ml cat"),
            ("ML engineer salary in London?", "mle salary london"),
            ("london salary for an mle", "london salary mle"),
        )
    )
    assert sorted(c.questions for c in clusters) == [
        ["ML engineer salary in London?", "london salary for an mle"],
        ["ml"],
        ["name for my ml cat?"],
        ["what does a dentist earn in ML money"],
    ]
    [salary] = [c for c in clusters if c.count == 2]
    assert salary.refs == ["r3", "r4"]
