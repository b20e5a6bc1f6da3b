"""Teach the knowledge base from the log: append questions to an entry's YAML, keeping the file as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.knowledge import Knowledge, KnowledgeError, load_knowledge, question_key
from bot.review import Cluster


def add_questions(knowledge: Knowledge, entry_id: str, questions: list[str]) -> list[str]:
    """Append ``questions`` to the entry's `questions:` list in its file; returns the ones added.

    Only lines are inserted, so comments and formatting elsewhere stay untouched.
    The knowledge must still validate afterwards, or the file is restored and
    ``KnowledgeError`` raised.
    """
    entry = knowledge.get(entry_id)
    if entry is None:
        raise LookupError(f"no entry {entry_id!r} in {knowledge.folder}")
    known = {question_key(q) for e in knowledge.entries for q in (e.title, *e.questions)}
    fresh: list[str] = []
    for q in questions:
        text = " ".join(q.split())
        if text and question_key(text) not in known:
            known.add(question_key(text))
            fresh.append(text)
    if not fresh:
        return []
    path = Path(knowledge.folder) / entry.file
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    at, indent = _insertion_point(lines, entry_id)
    newline = "\n" if not lines or lines[-1].endswith("\n") else ""
    block = "".join(f"{indent}- {json.dumps(q, ensure_ascii=False)}\n" for q in fresh)
    if at == len(lines) and newline == "" and lines:
        lines[-1] += "\n"
    lines.insert(at, block)
    path.write_text("".join(lines), encoding="utf-8")
    try:
        load_knowledge(knowledge.folder)
    except KnowledgeError:
        path.write_text(original, encoding="utf-8")
        raise
    return fresh


def _insertion_point(lines: list[str], entry_id: str) -> tuple[int, str]:
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if re.match(rf"^\s*-?\s*id:\s*['\"]?{re.escape(entry_id)}['\"]?\s*(#.*)?$", line)
        ),
        None,
    )
    if start is None:
        raise LookupError(f"cannot find `id: {entry_id}` in the file")
    entry_indent = len(lines[start]) - len(lines[start].lstrip(" -"))
    for i in range(start + 1, len(lines)):
        stripped = lines[i].lstrip()
        indent = len(lines[i]) - len(stripped)
        if stripped.startswith("- ") and indent < entry_indent:
            break
        if re.match(r"^questions:\s*(#.*)?$", stripped) and indent == entry_indent:
            last, item_indent = i, None
            for j in range(i + 1, len(lines)):
                s = lines[j].lstrip()
                ind = len(lines[j]) - len(s)
                if not s.strip() or s.startswith("#"):
                    continue
                is_item = s.startswith("- ")
                if item_indent is None and is_item and ind >= entry_indent:
                    item_indent = ind
                if ind > entry_indent or (is_item and ind == item_indent):
                    last = j
                    continue
                break
            return last + 1, " " * (item_indent if item_indent is not None else entry_indent + 2)
    raise LookupError(f"entry {entry_id!r} has no block-style `questions:` list to extend")


def skeleton(cluster: Cluster) -> str:
    """A ready-to-edit YAML entry for a cluster that needs a new answer."""
    questions = "\n".join(f"      - {json.dumps(q, ensure_ascii=False)}" for q in cluster.questions[:12])
    return (
        "  # Paste under `entries:` in a knowledge/*.yaml file, fill in the TODOs, then run `careerbot check`.\n"
        "  - id: TODO-new-entry-id\n"
        f"    title: {json.dumps(cluster.representative, ensure_ascii=False)}\n"
        "    questions:\n"
        f"{questions}\n"
        "    keywords: []\n"
        "    answer: >-\n"
        "      TODO: 60-180 words in the project's own words, from the articles named below.\n"
        "    sources: []  # ids from knowledge/sources.yaml\n"
        "    related: []\n"
    )
