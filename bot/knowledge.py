"""Load and validate the knowledge base: entries, sources, synonyms and asked questions, all YAML.

Every problem is reported at once, each naming its file, entry and field, so a
maintainer fixes a broken edit in one go. Nothing partial is ever returned: the
bot does not start (or keeps its last good knowledge) on a broken knowledge base.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.models import Entry, Source

SOURCES_FILE = "sources.yaml"
SYNONYMS_FILE = "synonyms.yaml"
OFFTOPIC_FILE = "offtopic.yaml"
ASKED_FOLDER = "asked"  # labelled questions people asked: each teaches the entry it is labelled with
ASKED_FIELDS = {"q", "expect", "kind", "origin"}
ENTRY_FIELDS = {"id", "title", "questions", "answer", "sources", "keywords", "related"}
REQUIRED_ENTRY_FIELDS = ("id", "title", "questions", "answer", "sources")
SOURCE_FIELDS = {"id", "title", "author", "date"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """yaml.safe_load (libyaml's, where installed: ~5x faster), except that a key given twice in one
    mapping is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key `{key}` appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class KnowledgeError(ValueError):
    """The knowledge base does not validate; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("knowledge does not validate:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class OffTopic:
    """What marks a question as outside careerbot's scope (knowledge/offtopic.yaml)."""

    cues: tuple[str, ...] = ()  # phrases that lower the bot's confidence wherever they appear
    other_jobs: tuple[str, ...] = ()  # outside the field: not answered if no `field` word is named, else background
    field: tuple[str, ...] = ()  # words that put a question inside ML, data or software
    examples: tuple[str, ...] = ()  # asked questions labelled must-not-answer (knowledge/asked/)


@dataclass(frozen=True)
class Knowledge:
    entries: tuple[Entry, ...]
    sources: dict[str, Source]
    synonyms: dict[str, tuple[str, ...]]
    version: str
    folder: Path
    offtopic: OffTopic = OffTopic()
    left_out: tuple[str, ...] = ()  # asked files not loaded (``load_knowledge(leave_out=...)``)
    _by_id: dict[str, Entry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({e.id: e for e in self.entries})

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)


def question_key(text: str) -> str:
    """How two alternate questions are compared for duplicates."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def knowledge_files(folder: Path) -> list[Path]:
    """Every file the knowledge is read from: the folder's YAML, then that of its asked/ folder."""
    return sorted(folder.glob("*.yaml")) + sorted((folder / ASKED_FOLDER).glob("*.yaml"))


def load_knowledge(folder: Path | str, *, leave_out: Collection[str] = ()) -> Knowledge:
    """Load ``folder``; ``leave_out`` names files of its ``asked/`` folder to skip (to measure them as unseen)."""
    folder = Path(folder)
    problems: list[str] = []
    if not folder.is_dir():
        raise KnowledgeError([f"{folder}: no such knowledge folder"])
    digest = hashlib.sha256()
    docs: dict[str, Any] = {}
    files = knowledge_files(folder)
    skipped = [p for p in files if p.parent != folder and p.name in leave_out]
    for path in files:
        if path in skipped:
            continue
        name = path.relative_to(folder).as_posix()
        raw = path.read_bytes()
        digest.update(name.encode() + b"\0" + raw)
        try:
            docs[name] = yaml.load(raw, Loader=_StrictLoader)  # a SafeLoader subclass: safe
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            problems.append(f"{name}: invalid YAML{where}: {problem}")
    if problems:
        raise KnowledgeError(problems)

    sources = _load_sources(docs.pop(SOURCES_FILE, None), problems)
    synonyms = _load_synonyms(docs.pop(SYNONYMS_FILE, {}) or {}, problems)
    offtopic = _load_offtopic(docs.pop(OFFTOPIC_FILE, {}) or {}, problems)
    asked_docs = {name: docs.pop(name) for name in list(docs) if name.startswith(ASKED_FOLDER + "/")}
    entries: list[Entry] = []
    for name, doc in docs.items():
        entries.extend(_load_entries(name, doc, sources, problems))
    _check_across_entries(entries, problems)
    if not entries and not problems:
        problems.append(f"{folder}: no entries found in any *.yaml file")
    if problems:
        raise KnowledgeError(problems)
    entries, examples = _teach(entries, asked_docs, problems)
    if problems:
        raise KnowledgeError(problems)
    offtopic = replace(offtopic, examples=examples)
    return Knowledge(
        tuple(entries), sources, synonyms, digest.hexdigest()[:12], folder, offtopic, tuple(p.name for p in skipped)
    )


def _teach(entries: list[Entry], docs: dict[str, Any], problems: list[str]) -> tuple[list[Entry], tuple[str, ...]]:
    """Add each asked question to the entry it is labelled with first, or to the must-not-answer examples.

    A question already known under an entry its label accepts adds nothing; one known under any other
    entry, or labelled both ways, is a problem to fix.
    """
    ids = {e.id for e in entries}
    owner = {question_key(q): e.id for e in entries for q in (e.title, *e.questions)}
    taught: dict[str, list[str]] = {e.id: [] for e in entries}
    examples: list[str] = []
    for name, doc in docs.items():
        if not isinstance(doc, list):
            problems.append(f"{name}: must be a list of asked questions, each `q:` with `expect:` (entry ids)")
            continue
        for i, item in enumerate(doc):
            label = f"{name}: question #{i + 1}"
            q = item.get("q") if isinstance(item, dict) else None
            expect = _strings(item.get("expect") or []) if isinstance(item, dict) else None
            if not isinstance(q, str) or not q.strip() or expect is None:
                problems.append(f"{label}: needs `q:` (the question) and `expect:` (a list of entry ids, [] for none)")
                continue
            if unknown := set(item) - ASKED_FIELDS:
                problems.append(f"{label}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
            if missing := [e for e in expect if e not in ids]:
                problems.append(f"{label}: field `expect` names unknown entry '{missing[0]}'")
                continue
            key, target = question_key(q), (expect[0] if expect else "")
            known = owner.get(key)
            if known is None:
                owner[key] = target
                (taught[target] if target else examples).append(" ".join(q.split()))
            elif known != target and known not in expect:
                where = f"a question of '{known}'" if known else "labelled must-not-answer elsewhere"
                problems.append(f"{label}: “{q.strip()}” is {where}")
    entries = [replace(e, questions=e.questions + tuple(taught[e.id])) if taught[e.id] else e for e in entries]
    return entries, tuple(examples)


def _load_sources(doc: Any, problems: list[str]) -> dict[str, Source]:
    where = SOURCES_FILE
    if doc is None:
        problems.append(f"{where}: missing (every entry names its sources from it)")
        return {}
    if not isinstance(doc, dict) or set(doc) != {"sources"} or not isinstance(doc["sources"], list):
        problems.append(f"{where}: must be a mapping with one key `sources:` holding a list")
        return {}
    sources: dict[str, Source] = {}
    for i, item in enumerate(doc["sources"]):
        label = f"{where}: source #{i + 1}"
        if not isinstance(item, dict):
            problems.append(f"{label}: must be a mapping")
            continue
        if unknown := set(item) - SOURCE_FIELDS:
            problems.append(f"{label}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        sid, title = item.get("id"), item.get("title")
        if not isinstance(sid, str) or not sid.strip():
            problems.append(f"{label}: field `id` is missing or empty")
            continue
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{where}: source '{sid}': field `title` is missing or empty")
            continue
        if sid in sources:
            problems.append(f"{where}: source '{sid}': duplicate id")
        author, date = item.get("author"), item.get("date")
        sources[sid] = Source(sid, title.strip(), str(author) if author else None, str(date) if date else None)
    return sources


def _load_synonyms(doc: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    where = SYNONYMS_FILE
    if not isinstance(doc, dict) or set(doc) - {"synonyms"} or not isinstance(doc.get("synonyms", {}), dict):
        problems.append(f"{where}: must be a mapping with one key `synonyms:` holding canonical: [variants]")
        return {}
    synonyms: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for canonical, variants in (doc.get("synonyms") or {}).items():
        if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
            problems.append(f"{where}: '{canonical}': must be a list of non-empty strings")
            continue
        for variant in variants:
            key = variant.casefold().strip()
            if key in seen and seen[key] != canonical:
                problems.append(f"{where}: '{variant}' is listed under both '{seen[key]}' and '{canonical}'")
            seen[key] = str(canonical)
        synonyms[str(canonical)] = tuple(v.strip() for v in variants)
    return synonyms


def _load_offtopic(doc: Any, problems: list[str]) -> OffTopic:
    keys = ("offtopic", "other_jobs", "field")
    lists = [_strings(doc.get(k, [])) for k in keys] if isinstance(doc, dict) and set(doc) <= set(keys) else [None]
    if any(phrases is None or not all(phrases) for phrases in lists):
        problems.append(
            f"{OFFTOPIC_FILE}: must be a mapping with the keys `offtopic:`, `other_jobs:` and `field:`, "
            "each holding a list of phrases"
        )
        return OffTopic()
    return OffTopic(*lists)  # type: ignore[arg-type]


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v).strip() for v in value)
    return None


def _load_entries(name: str, doc: Any, sources: dict[str, Source], problems: list[str]) -> list[Entry]:
    if not isinstance(doc, dict) or set(doc) != {"entries"} or not isinstance(doc["entries"], list):
        problems.append(f"{name}: must be a mapping with one key `entries:` holding a list of entries")
        return []
    entries = []
    for i, item in enumerate(doc["entries"]):
        if not isinstance(item, dict):
            problems.append(f"{name}: entry #{i + 1}: must be a mapping of fields")
            continue
        eid = item.get("id")
        label = f"{name}: entry '{eid}'" if isinstance(eid, str) and eid else f"{name}: entry #{i + 1}"
        before = len(problems)
        if unknown := set(item) - ENTRY_FIELDS:
            allowed = ", ".join(sorted(ENTRY_FIELDS))
            problems.append(f"{label}: unknown field(s) {', '.join(sorted(map(str, unknown)))} (allowed: {allowed})")
        for key in REQUIRED_ENTRY_FIELDS:
            value = item.get(key)
            if (
                value is None
                or (isinstance(value, str | list) and not value)
                or (isinstance(value, str) and not value.strip())
            ):
                problems.append(f"{label}: field `{key}` is missing or empty")
        if isinstance(eid, str) and eid and not ID_PATTERN.match(eid):
            problems.append(f"{label}: field `id` must be lowercase words joined by hyphens")
        for key in ("title", "answer"):
            if key in item and item[key] is not None and not isinstance(item[key], str):
                problems.append(f"{label}: field `{key}` must be text")
        lists = {key: _strings(item.get(key, [])) for key in ("questions", "sources", "keywords", "related")}
        for key, value in lists.items():
            if value is None:
                problems.append(f"{label}: field `{key}` must be a list of strings")
            elif any(not v for v in value):
                problems.append(f"{label}: field `{key}` has an empty item")
        for sid in lists["sources"] or ():
            if sid not in sources:
                problems.append(f"{label}: field `sources` names unknown source '{sid}' (see {SOURCES_FILE})")
        if len(problems) > before:
            continue
        entries.append(
            Entry(
                id=eid,
                title=item["title"].strip(),
                questions=lists["questions"] or (),
                answer=" ".join(item["answer"].split()),
                sources=tuple(sources[s] for s in lists["sources"] or ()),
                keywords=lists["keywords"] or (),
                related=lists["related"] or (),
                file=name,
            )
        )
    return entries


def _check_across_entries(entries: list[Entry], problems: list[str]) -> None:
    ids: dict[str, str] = {}
    for entry in entries:
        if entry.id in ids:
            problems.append(f"{entry.file}: entry '{entry.id}': duplicate id (also in {ids[entry.id]})")
        ids[entry.id] = entry.file
    owner: dict[str, str] = {}
    for entry in entries:
        for text in (entry.title, *entry.questions):
            key = question_key(text)
            other = owner.setdefault(key, entry.id)
            if other != entry.id:
                problems.append(
                    f"{entry.file}: entry '{entry.id}': field `questions`: “{text}” is also a question of '{other}'"
                )
        for rid in entry.related:
            if rid not in ids:
                problems.append(f"{entry.file}: entry '{entry.id}': field `related` names unknown entry '{rid}'")
            elif rid == entry.id:
                problems.append(f"{entry.file}: entry '{entry.id}': field `related` names the entry itself")
