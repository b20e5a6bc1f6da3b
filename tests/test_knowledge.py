"""The bundled knowledge base: the coverage contract, and validation that names file, entry and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import BUNDLED_KNOWLEDGE
from bot.knowledge import Knowledge, KnowledgeError, load_knowledge
from bot.models import ReplyKind

# The project's coverage contract: every topic id the bundled knowledge must answer,
# with the articles (source ids in knowledge/sources.yaml) each answer must draw on.
# 000 = unsexy-truths, 001 = why-become, 002 = what-i-do, 003 = why-i-didnt.
REQUIRED_TOPICS: dict[str, set[str]] = {
    "what-is-an-ml-engineer": {"what-i-do"},
    "ml-engineer-vs-data-scientist": {"what-i-do", "why-become"},
    "is-it-entry-level": {"what-i-do", "why-i-didnt"},
    "degree-requirements": {"unsexy-truths", "why-i-didnt"},
    "salary-and-pay": {"unsexy-truths", "what-i-do"},
    "programming-skills": {"unsexy-truths", "what-i-do"},
    "tech-stack": {"what-i-do", "why-i-didnt"},
    "skills-overview": {"why-become", "what-i-do"},
    "daily-grind": {"unsexy-truths", "why-i-didnt"},
    "typical-day": {"what-i-do"},
    "project-workflow": {"what-i-do"},
    "non-coding-work": {"what-i-do"},
    "team-structures": {"what-i-do"},
    "shortcuts-and-tradeoffs": {"unsexy-truths"},
    "learn-the-basics": {"unsexy-truths"},
    "hype-vs-reality": {"unsexy-truths", "why-i-didnt"},
    "real-world-challenges": {"why-i-didnt", "unsexy-truths"},
    "keeping-up": {"why-i-didnt", "what-i-do"},
    "confidence-and-imposter-feelings": {"why-i-didnt", "unsexy-truths"},
    "job-market": {"why-i-didnt", "unsexy-truths"},
    "reasons-to-become-one": {"why-become", "what-i-do"},
    "reasons-not-to": {"why-i-didnt", "unsexy-truths"},
    "work-life-balance": {"what-i-do", "why-become"},
    "career-progression": {"why-become", "unsexy-truths"},
    "industries": {"why-become", "what-i-do", "unsexy-truths"},
    "breaking-in": {"unsexy-truths", "what-i-do", "why-i-didnt", "why-become"},
    "career-changers": {"why-become", "why-i-didnt"},
    "community-and-events": {"why-become"},
    "alternatives-to-ml": {"why-i-didnt", "why-become"},
    "about-the-sources": {"unsexy-truths", "why-become", "what-i-do", "why-i-didnt"},
}


def test_bundled_knowledge_covers_every_required_topic(knowledge: Knowledge) -> None:
    ids = {e.id for e in knowledge.entries}
    assert not set(REQUIRED_TOPICS) - ids


@pytest.mark.parametrize("topic", sorted(REQUIRED_TOPICS))
def test_required_topic_draws_on_its_articles(knowledge: Knowledge, topic: str) -> None:
    entry = knowledge.get(topic)
    assert entry is not None
    assert REQUIRED_TOPICS[topic] <= {s.id for s in entry.sources}


@pytest.mark.parametrize("entry_id", [e.id for e in load_knowledge(BUNDLED_KNOWLEDGE).entries])
def test_every_entry_is_complete(knowledge: Knowledge, entry_id: str) -> None:
    entry = knowledge.get(entry_id)
    assert entry is not None
    assert len(entry.questions) >= 8
    assert 60 <= len(entry.answer.split()) <= 180
    assert entry.sources and entry.related


def test_sources_name_titles_and_authors(knowledge: Knowledge) -> None:
    assert knowledge.sources["unsexy-truths"].author == "Devansh"
    assert knowledge.sources["what-i-do"].author == "Egor Howell"
    assert all(s.title for s in knowledge.sources.values())


# --- validation -------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(folder: Path) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(folder)
    return str(info.value)


def test_broken_yaml_names_file_and_line(folder: Path) -> None:
    (folder / "role.yaml").write_text("entries:\n  - id: x\n    title: [unclosed\n", encoding="utf-8")
    message = _problems(folder)
    assert "role.yaml: invalid YAML at line" in message


def test_unknown_field_is_named(folder: Path) -> None:
    _edit(
        folder / "role.yaml",
        "    title: What is a machine learning engineer?",
        "    title: What is a machine learning engineer?\n    answr: typo",
    )
    assert "role.yaml: entry 'what-is-an-ml-engineer': unknown field(s) answr" in _problems(folder)


def test_missing_answer_is_named(folder: Path) -> None:
    text = (folder / "role.yaml").read_text(encoding="utf-8")
    start = text.index("    answer:", text.index("id: what-is-an-ml-engineer"))
    end = text.index("    sources:", start)
    (folder / "role.yaml").write_text(text[:start] + '    answer: ""\n' + text[end:], encoding="utf-8")
    assert "entry 'what-is-an-ml-engineer': field `answer` is missing or empty" in _problems(folder)


def test_duplicate_id_is_named(folder: Path) -> None:
    _edit(folder / "work.yaml", "id: typical-day", "id: daily-grind")
    assert "entry 'daily-grind': duplicate id" in _problems(folder)


def test_same_question_under_two_entries_is_named(folder: Path) -> None:
    _edit(folder / "work.yaml", "    questions:\n", '    questions:\n      - "What is a machine learning engineer?"\n')
    message = _problems(folder)
    assert "field `questions`" in message and "what-is-an-ml-engineer" in message


def test_dangling_related_is_named(folder: Path) -> None:
    _edit(folder / "role.yaml", "related: [", "related: [no-such-entry, ")
    assert "field `related` names unknown entry 'no-such-entry'" in _problems(folder)


def test_unknown_source_is_named(folder: Path) -> None:
    _edit(folder / "role.yaml", "sources: [", "sources: [no-such-article, ")
    assert "field `sources` names unknown source 'no-such-article'" in _problems(folder)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    assert "no such knowledge folder" in _problems(tmp_path / "nope")


def test_broken_offtopic_and_synonym_files_are_named(folder: Path) -> None:
    (folder / "offtopic.yaml").write_text("offtopic: {not: a list}\n", encoding="utf-8")
    (folder / "synonyms.yaml").write_text("synonyms:\n  pay: salary\n", encoding="utf-8")
    message = _problems(folder)
    assert "offtopic.yaml: must be a mapping with the keys `offtopic:`, `other_jobs:` and `field:`" in message
    assert "synonyms.yaml: 'pay': must be a list of non-empty strings" in message


def test_offtopic_cues_lower_confidence_without_blocking(knowledge: Knowledge) -> None:
    from bot.engine import Engine

    engine = Engine(knowledge)
    plain = engine.evidence(engine.rank("how does the job market look for ML engineers"))
    assert plain.offtopic == 1  # "how does" is a cue...
    assert engine.match("how does the job market look for ML engineers").entry.id == "job-market"  # ...not a block
    assert engine.evidence(engine.rank("how does dropout work in a transformer")).offtopic == 3


def test_other_jobs_block_an_answer_only_when_the_question_is_not_about_the_field(knowledge: Knowledge) -> None:
    from bot.engine import Engine

    engine = Engine(knowledge)
    assert engine.evidence(engine.rank("how much does a welder earn")).offtopic == 1
    for question in (
        "how much does a welder earn",
        "do dentists need a masters degree?",
        "is becoming a UX researcher a good career move?",  # "research" alone would put it in the field
    ):
        match = engine.match(question)
        assert match.kind is ReplyKind.UNKNOWN and not match.suggestions, match.reason
        assert match.reason.endswith("but it names another occupation and nothing in ML")
    assert engine.match("I'm a dentist, do I need a masters degree to move into ML?").entry.id == "degree-requirements"
    sources = "are your answers based on real accounts from people in the job?"  # "accounts" names no accountant
    assert not engine.rank(sources).elsewhere and engine.match(sources).entry.id == "about-the-sources"
    assert engine.evidence(engine.rank("how much do security analysts make")).offtopic == 1  # "analyst" alone: not ML
    retrain = "I'm a welder, could I retrain as a machine learning engineer?"  # the old job is background
    assert engine.evidence(engine.rank(retrain)).offtopic == 0
    assert engine.match(retrain).entry.id == "career-changers"
    assert engine.evidence(engine.rank("I'm a security analyst, could I move into data science?")).offtopic == 0


def test_a_key_given_twice_is_an_error_not_an_overwrite(folder: Path) -> None:
    _edit(folder / "synonyms.yaml", "synonyms:\n", "synonyms:\n  salary: [pay]\n")
    assert "synonyms.yaml: invalid YAML at line" in _problems(folder)


def _ask(folder: Path, text: str, name: str = "new.yaml") -> Path:
    path = folder / "asked" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_asked_questions_teach_their_entry_and_the_must_not_answer_examples(folder: Path) -> None:
    from bot.engine import Engine

    question = "yo what kinda hours do ML folks pull, am I gonna be chained to the desk"
    offtopic = "which ML engineer hoodie should I buy for the office"
    assert Engine(load_knowledge(folder)).match(offtopic).kind is ReplyKind.SUGGEST  # before it is taught
    _ask(
        folder,
        f'- q: "{question}"\n  expect: [work-life-balance, typical-day]\n  kind: real\n'
        f'- q: "{offtopic}"\n  expect: []\n',
    )
    knowledge = load_knowledge(folder)
    assert question in knowledge.get("work-life-balance").questions  # the first entry its label accepts
    assert question not in knowledge.get("typical-day").questions
    assert offtopic in knowledge.offtopic.examples
    engine = Engine(knowledge)
    assert engine.match(question).entry.id == "work-life-balance"
    assert engine.match(offtopic).kind is ReplyKind.UNKNOWN
    evidence = engine.evidence(engine.rank(offtopic))
    assert evidence.unanswerable >= evidence.score  # its closest match is the example now
    assert load_knowledge(folder, leave_out={"new.yaml"}).left_out == ("new.yaml",)
    assert question not in load_knowledge(folder, leave_out={"new.yaml"}).get("work-life-balance").questions


def test_broken_asked_files_are_named(folder: Path) -> None:
    known = load_knowledge(folder).get("salary-and-pay").questions[0]
    _ask(
        folder,
        '- q: "how do I negotiate"\n  expect: [no-such-entry]\n'
        "- q: 42\n  expect: [salary-and-pay]\n"
        f'- q: "{known}"\n  expect: [degree-requirements]\n'
        '- q: "is a PhD worth it"\n  expect: [degree-requirements]\n  asker: me\n',
    )
    _ask(folder, "q: not a list\n", name="flat.yaml")
    message = _problems(folder)
    assert "asked/new.yaml: question #1: field `expect` names unknown entry 'no-such-entry'" in message
    assert "asked/new.yaml: question #2: needs `q:` (the question)" in message
    assert f"asked/new.yaml: question #3: “{known}” is a question of 'salary-and-pay'" in message
    assert "asked/new.yaml: question #4: unknown field(s) asker" in message
    assert "asked/flat.yaml: must be a list of asked questions" in message


def test_a_question_labelled_both_ways_is_named(folder: Path) -> None:
    _ask(folder, '- q: "what gpu should I buy"\n  expect: []\n', name="a.yaml")
    _ask(folder, '- q: "What GPU should I buy?"\n  expect: [tech-stack]\n', name="b.yaml")
    assert "asked/b.yaml: question #1: “What GPU should I buy?” is labelled must-not-answer elsewhere" in _problems(
        folder
    )


def test_eval_measures_a_taught_file_as_unseen(folder: Path) -> None:
    from bot.evaluate import knowledge_for

    path = _ask(folder, '- q: "yo is the pay any good for mles"\n  expect: [salary-and-pay]\n')
    assert knowledge_for(folder, path).left_out == ("new.yaml",)
    assert "yo is the pay any good for mles" not in knowledge_for(folder, path).get("salary-and-pay").questions
    elsewhere = folder.parent / "dev.yaml"
    shutil.copy(path, elsewhere)
    assert "yo is the pay any good for mles" in knowledge_for(folder, elsewhere).get("salary-and-pay").questions
