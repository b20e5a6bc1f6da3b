"""The FAQ engine: pure, synchronous, built once per knowledge version.

How a question is scored against an entry:

1. Words are normalised (``bot.text``), misspellings are corrected to the
   nearest word the knowledge uses (rapidfuzz edit distance), words are
   stemmed, synonyms and abbreviations are folded into one canonical token
   (knowledge/synonyms.yaml), and stop words are dropped.
2. Each token weighs what it tells apart: a token few entries are about
   (``standup``) weighs more than one many entries are about (``mle``); an
   entry is about a token when at least one in five of its questions use it.
   A token the knowledge never uses (``dentist``) weighs the most, because it
   is what the knowledge does not explain.
3. An inverted index from token to entries narrows the candidates, so only
   entries that share a token are scored.
4. A candidate's score blends how much of the question its best alternate
   question explains, how much of that alternate is matched, and how much of
   the question the whole entry explains; then rapidfuzz's token-sort similarity
   of the whole wording, stop words included, against the alternates that share
   the most words ("what else could I do" and "what do I do" differ only there).
   Token-sort, not token-set: token-set scores any short alternate whose words a
   long question happens to contain at 100, so long questions went to whichever
   entry had a short, generic alternate.

The decision is separate from the ranking, because a high rank is not the same
as a right answer: a small logistic model (``Evidence``; weights fitted on
labelled questions by ``bench/tune.py``) turns the top score, its lead over the
runner-up, how much of the question the entry explains, the share of unknown
words, the question's length and its off-topic cues into a confidence. Answer
above ``answer_at``, but never on a near tie, on too vague a question, or on one that
names another occupation and nothing in ML ("do pharmacists need a PhD?");
otherwise suggest plausible entries; otherwise admit not knowing. Questions
labelled must-not-answer (knowledge/asked/) are indexed like one more entry: how
well they match lowers the confidence, and a question that matches them at
least as well as its best entry is not answered.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import add, mul
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge import Knowledge, OffTopic
from bot.models import Candidate, Entry, Match, ReplyKind
from bot.text import STOP_WORDS, is_english_word, normalise, stem

NOT_ANSWERABLE = "(must not answer)"  # the id of the entry the must-not-answer examples are indexed as
SYNONYM_WEIGHT = 10  # synonym variants count as this many uses of a word, for spelling correction


@dataclass(frozen=True, slots=True)
class Tuning:
    """The engine's knobs, tuned on labelled questions (``careerbot eval``)."""

    # ranking: how a candidate's score (0-100) blends its signals
    phrasing_weight: float = 0.2
    entry_weight: float = 0.65
    wording_weight: float = 0.4  # share of the score from rapidfuzz on the whole wording, stop words included...
    wording_candidates: int = 10  # ...against the entry's alternate questions that share the most words
    precision_share: float = 0.45
    keyword_focus: float = 0.7
    about_share: float = 0.2  # an entry is about a word that this share of its questions use (word weights)
    unknown_word_factor: float = 1.0
    candidate_limit: int = 8
    exact_score: float = 90.0
    # deciding: a logistic model of "the top candidate is right", over the features of ``Evidence``
    confidence_weights: tuple[float, ...] = (-2.22, 0.77, 0.84, 1.68, -0.4, 0.41, -0.55, 0.77, 1.27, 0.79, -0.54)
    answer_at: float = 0.8
    margin: float = 0.1  # never on a dead heat (the lead also weighs in the confidence)
    one_word_margin: float = 3.0  # one word must point clearly at one entry ("data" fits two equally)
    min_information: float = 0.75  # nor when the question is too vague ("ml", "jobs"): suggest instead
    suggest_at: float = 0.4  # below answer_at but at least this confident: offer "did you mean"
    suggest_within: float = 0.6  # ...the candidates scoring at least this share of the top score
    max_suggestions: int = 3

    def withheld(self, evidence: Evidence) -> str:
        """Why no answer may be given, however confident ("" when one may)."""
        if evidence.elsewhere:
            return "it names another occupation and nothing in ML"
        if evidence.refused:
            return f"a question labelled must-not-answer matches as well ({evidence.unanswerable:.1f})"
        if evidence.lead < (self.margin if evidence.length > 1 else self.one_word_margin):
            return "it is a near tie"
        if evidence.information < self.min_information and evidence.score < self.exact_score:
            return "the question is too vague"
        return ""


class Analyzer:
    """Turns text into canonical tokens: corrected, stemmed, synonym-folded, stop words dropped."""

    def __init__(self, synonyms: dict[str, tuple[str, ...]], offtopic: OffTopic | None = None) -> None:
        offtopic = offtopic or OffTopic()
        cues = self._phrases(offtopic.cues)
        self.jobs = self._phrases(offtopic.other_jobs)
        # occupations are found by name, not by stem: "accountant" and "accounts" share a stem
        self.job_names = {tuple(_singular(w) for w in normalise(job).split()) for job in offtopic.other_jobs} - {()}
        self.job_reach = _reach(self.job_names)
        self.cues = (cues, _reach(cues))  # with the longest cue per first word, for a quick scan
        self.phrases: dict[tuple[str, ...], str] = {}
        for canonical, variants in synonyms.items():
            token = "_".join(canonical.split())
            for text in (canonical, *variants):
                key = tuple(stem(w) for w in normalise(text).split())
                if key:
                    self.phrases[key] = token
        self.phrase_reach = _reach(self.phrases)
        self.field = {t for w in offtopic.field for t in self.fold(normalise(w).split())}
        self.known_words: set[str] = set(STOP_WORDS)
        for key in self.phrases:
            self.known_words.update(key)
        self.frequency: Counter[str] = Counter()  # how often the knowledge uses each word
        for variants in synonyms.values():
            for text in variants:
                self.frequency.update({w: SYNONYM_WEIGHT for w in normalise(text).split()})
        self._by_initial: dict[str, list[str]] = {}

    @staticmethod
    def _phrases(texts: tuple[str, ...]) -> set[tuple[str, ...]]:
        return {tuple(stem(w) for w in normalise(t).split()) for t in texts} - {()}

    def learn(self, words: Counter[str]) -> None:
        """Remember the words the knowledge uses, so misspellings can be corrected towards them."""
        self.frequency.update(words)
        self.known_words.update(words)
        self._by_initial = defaultdict(list)
        for w, n in sorted(self.frequency.items(), key=lambda item: -item[1]):
            if len(w) >= 3 and w.isalpha():
                self._by_initial[w[0]].append((w, n))
        self.correct.cache_clear()

    @lru_cache(maxsize=65536)  # noqa: B019 - one analyzer per knowledge version; the cache dies with it
    def correct(self, word: str) -> str:
        """The knowledge's usual word for a misspelling ("lerning" -> "learning").

        Real English words stay as they are. Anything else is replaced by a word within
        one or two edits that the knowledge uses far more often, so a typo that slipped
        into an alternate question counts as the word it misspells.
        """
        if len(word) < 4 or not word.isalpha() or word in STOP_WORDS:
            return word
        own = self.frequency[word]
        if own == 0 and stem(word) in self.known_words:
            return word
        need = max(2, 10 * own)
        ranked = self._by_initial.get(word[0], ())  # most used first; typos rarely hit the first letter
        candidates = [w for w, n in itertools.takewhile(lambda item: item[1] >= need, ranked)]
        allowed = 1 if len(word) <= 7 else 2
        best = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=allowed)
        return best[0] if best and not is_english_word(word) else word

    def analyse(self, text: str) -> Reading:
        """The question's tokens, its wording, and what marks it as off topic (knowledge/offtopic.yaml).

        The wording is every word, corrected and stemmed but with its stop words kept: "what does an
        MLE do" and "what is an MLE" differ only in words the tokens leave out.
        """
        words = [self.correct(w) for w in normalise(text).split()]
        stems = [stem(w) for w in words]
        tokens = self._fold(words, stems)
        cues = len(_find(stems, *self.cues))
        jobs = _find([_singular(w) for w in words], self.job_names, self.job_reach)
        named = {i for start, end in jobs for i in range(start, end)}  # "UX researcher" is no research in ML
        rest = self.fold([w for i, w in enumerate(words) if i not in named]) if named else tokens
        if self.field.intersection(rest):  # "I'm a nurse moving into ML": the occupation is background
            return Reading(tuple(t for t in tokens if (t,) not in self.jobs), " ".join(stems), cues)
        return Reading(tokens, " ".join(stems), cues + len(jobs), elsewhere=bool(jobs))

    def read(self, words: list[str]) -> tuple[tuple[str, ...], str]:
        """Normalised words -> their tokens and their wording (misspellings corrected in both)."""
        words = [self.correct(w) for w in words]
        stems = [stem(w) for w in words]
        return self._fold(words, stems), " ".join(stems)

    def fold(self, words: list[str]) -> tuple[str, ...]:
        """Stem, fold synonym phrases into canonical tokens, drop stop words, dedupe (order kept)."""
        return self._fold(words, [stem(w) for w in words])

    def _fold(self, words: list[str], stems: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        i = 0
        while i < len(stems):
            shortest = 2 if words[i] in STOP_WORDS else 1  # "basically" stems like "basics" but means nothing
            for size in range(min(self.phrase_reach.get(stems[i], 0), len(stems) - i), shortest - 1, -1):
                token = self.phrases.get(tuple(stems[i : i + size]))
                if token is not None:
                    out.append(token)
                    i += size
                    break
            else:
                if words[i] not in STOP_WORDS and stems[i] not in STOP_WORDS and not words[i].isdigit():
                    out.append(stems[i])
                i += 1
        return tuple(dict.fromkeys(out))


def _find(words: list[str], phrases: set[tuple[str, ...]], reach: dict[str, int]) -> list[tuple[int, int]]:
    """Where ``phrases`` occur in ``words``: (start, end) of each."""
    return [
        (i, i + size)
        for i, first in enumerate(words)
        for size in range(1, min(reach.get(first, 0), len(words) - i) + 1)
        if tuple(words[i : i + size]) in phrases
    ]


def _sort_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _reach(phrases: Iterable[tuple[str, ...]]) -> dict[str, int]:
    """First word -> the longest phrase starting with it, so most words need no phrase lookup at all."""
    reach: dict[str, int] = {}
    for phrase in phrases:
        reach[phrase[0]] = max(reach.get(phrase[0], 0), len(phrase))
    return reach


class Reading(NamedTuple):
    tokens: tuple[str, ...]
    wording: str
    cues: int  # off-topic cues found
    elsewhere: bool = False  # it names another occupation (a dentist, a nurse) and nothing in ML


class Ranking(NamedTuple):
    tokens: tuple[str, ...]
    candidates: list[Candidate]
    cues: int  # off-topic cues found
    unanswerable: float = 0.0  # the score of the closest question labelled must-not-answer (knowledge/asked/)
    elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the decision looks at: how strong and how clear-cut the best match is."""

    score: float  # the top candidate's score, 0-100
    lead: float  # its lead over the runner-up
    explained: float  # share of the question's weight that the top entry uses at all
    unknown: float  # share of the question's weight in words the knowledge never uses
    length: int  # content tokens in the question
    offtopic: int = 0  # off-topic cues in the question (tech support, how an algorithm works, ...)
    phrasing: float = 0.0  # how closely the top entry's nearest alternate question matches (0-1)
    information: float = 0.0  # summed weight of the question's words the top entry uses ("ml" alone: 0.5)
    matched: float = 0.0  # the top candidate's score from content words alone, 0-100
    unanswerable: float = 0.0  # the score of the closest question labelled must-not-answer, 0-100
    elsewhere: bool = False  # it names another occupation and nothing in ML: "do pharmacists need a PhD?"

    @property
    def refused(self) -> bool:
        """A question labelled must-not-answer matches at least as well as the top entry."""
        return self.unanswerable >= self.score

    def features(self) -> tuple[float, ...]:
        length = math.log(max(1, self.length))
        return (
            1.0,
            self.score / 100,
            self.lead / 100,
            self.explained,
            self.unknown,
            length,
            min(self.offtopic, 2) / 2,
            self.phrasing,
            self.score / 100 * length,  # a long question scores lower for the same evidence
            self.matched / 100,
            self.unanswerable / 100,
        )

    def confidence(self, weights: tuple[float, ...]) -> float:
        z = sum(w * x for w, x in zip(weights, self.features(), strict=True))
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


class Engine:
    """Match questions against a knowledge base. Build once; ``match`` is cheap and never raises on text."""

    def __init__(self, knowledge: Knowledge, tuning: Tuning | None = None) -> None:
        self.knowledge = knowledge
        self.tuning = tuning or Tuning()
        self.entries: tuple[Entry, ...] = knowledge.entries
        self.analyzer = Analyzer(knowledge.synonyms, knowledge.offtopic)
        # Questions labelled must-not-answer are indexed like one more entry, which is never answered: a question
        # closer to them than to any entry is not answered either.
        examples = knowledge.offtopic.examples
        self.not_answerable = len(self.entries) if examples else -1
        indexed = self.entries + ((Entry(NOT_ANSWERABLE, "", examples, "", ()),) if examples else ())
        # Two passes: count the words the knowledge uses, then tokenise with spelling correction,
        # so that a typo in an alternate question reads as the word it misspells.
        words_of = {
            entry.id: (
                [normalise(t).split() for t in (entry.title, *entry.questions)],
                [normalise(k).split() for k in entry.keywords],
            )
            for entry in indexed
        }
        self.analyzer.learn(Counter(w for texts in words_of.values() for part in texts for ws in part for w in ws))

        entry_tokens: list[set[str]] = []
        raw_phrasings: list[list[tuple[str, ...]]] = []
        self.focus: list[dict[str, float]] = []
        # per entry, per alternate question: its wording with the words sorted ("" for keywords), for token-sort
        # similarity; and which entries list each wording
        self.wordings: list[list[str]] = []
        owners: dict[str, set[int]] = defaultdict(set)
        for index, entry in enumerate(indexed):
            questions, keyword_words = words_of[entry.id]
            read = [self.analyzer.read(ws) for ws in questions]
            phrasings = [p for p, _ in read]
            keywords = [self.analyzer.read(ws)[0] for ws in keyword_words]
            kept = [(p, wording) for p, wording in read if p] + [(k, "") for k in keywords if k]
            raw_phrasings.append([p for p, _ in kept])
            self.wordings.append([_sort_words(wording) for _, wording in kept])
            for wording in self.wordings[-1]:
                if wording:
                    owners[wording].add(index)
            entry_tokens.append({t for p in phrasings + keywords for t in p})
            counts: dict[str, int] = defaultdict(int)
            for p in phrasings:
                for t in set(p):
                    counts[t] += 1
            focus = {t: math.sqrt(n / max(1, len(phrasings))) for t, n in counts.items()}
            for k in keywords:
                for t in k:
                    focus[t] = max(focus.get(t, 0.0), self.tuning.keyword_focus)
            self.focus.append(focus)

        count = len(indexed)
        # A word tells entries apart by how many entries are *about* it: used by at least `about_share` of an
        # entry's questions, or a keyword. Taught questions mention "mle" or "job" in passing almost everywhere.
        df: dict[str, int] = defaultdict(int)
        for tokens, focus in zip(entry_tokens, self.focus, strict=True):
            for token in tokens:
                df[token] += focus[token] ** 2 >= self.tuning.about_share
        self.idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) for t, n in ((t, max(1, n)) for t, n in df.items())}
        self.unknown_idf = math.log(1 + (count + 0.5) / 0.5) * self.tuning.unknown_word_factor
        self.entry_tokens = [frozenset(tokens) for tokens in entry_tokens]
        self.position = {entry.id: index for index, entry in enumerate(self.entries)}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for index, tokens in enumerate(entry_tokens):
            for token in tokens:
                self.postings[token].append(index)
        # per entry, per alternate question: precision_share / its total weight (to score how much of it a question
        # covers); and per entry, token -> the alternate questions that use it
        phrasing_weights = [[sum(self.idf[t] for t in set(p)) for p in phrasings] for phrasings in raw_phrasings]
        share = self.tuning.precision_share
        self.phrasing_shares = [[share / w if w else 0.0 for w in ws] for ws in phrasing_weights]
        self.phrasing_index: list[dict[str, list[int]]] = []
        for phrasings in raw_phrasings:
            where: dict[str, list[int]] = defaultdict(list)
            for j, p in enumerate(phrasings):
                for t in set(p):
                    where[t].append(j)
            self.phrasing_index.append(dict(where))
        self.common_cutoff = max(50, count // 5)
        # the question in so many words (stop words included, any order) is an alternate that only one entry lists
        self.verbatim = {w: next(iter(ix)) for w, ix in owners.items() if len(ix) == 1}

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_idf)

    def rank(self, text: str, limit: int | None = None) -> Ranking:
        """Score the entries that share a token with ``text``, best first."""
        tokens, wording, cues, elsewhere = self.analyzer.analyse(text)
        if not tokens:
            return Ranking(tokens, [], cues, elsewhere=elsewhere)
        weights = {t: self.weight(t) for t in tokens}
        total = sum(weights.values())
        overlap: dict[int, float] = defaultdict(float)
        known = [t for t in tokens if t in self.postings]
        rare = [t for t in known if len(self.postings[t]) <= self.common_cutoff] or known
        for token in rare:
            for index in self.postings[token]:
                overlap[index] += weights[token] * self.focus[index][token]
        for token in known:
            if token not in rare:
                for index in overlap:
                    if token in self.entry_tokens[index]:
                        overlap[index] += weights[token] * self.focus[index][token]
        tune = self.tuning
        shortlist = sorted(overlap, key=overlap.__getitem__, reverse=True)[: tune.candidate_limit]
        sorted_wording = _sort_words(wording)
        verbatim = self.verbatim.get(sorted_wording, -1)
        if verbatim in overlap and verbatim not in shortlist:
            shortlist.append(verbatim)
        # an alternate's match: (1 - share) * shared / total + share * shared / its own weight
        of_question = (1 - tune.precision_share) / total
        found = []
        for index in shortlist:
            of_own = self.phrasing_shares[index]
            matched = [0.0] * len(of_own)  # per alternate question: the weight of the words it shares
            touched: list[int] = []  # the alternates that share any, in the order found
            where = self.phrasing_index[index]
            for t, w in weights.items():
                for j in where.get(t, ()):
                    if not matched[j]:
                        touched.append(j)
                    matched[j] += w
            shares = map(add, repeat(of_question), map(of_own.__getitem__, touched))
            best = max(map(mul, map(matched.__getitem__, touched), shares), default=0.0)  # in C: the hot loop
            coverage = overlap[index] / total
            score = 100 * (tune.phrasing_weight * best + tune.entry_weight * coverage)
            if best >= 0.999 and len(tokens) > 1:  # its content words are exactly those of one alternate
                score = max(score, tune.exact_score)
            found.append((index, score, best, coverage, matched, touched))
        ww = tune.wording_weight
        leader = nearest_unanswerable = 0.0
        scored = []
        for index, score, best, coverage, matched, touched in sorted(found, key=lambda f: f[1], reverse=True):
            blended = score
            if len(tokens) > 1:  # one word is a subset of any wording that uses it: no evidence
                # the wording is only worth comparing where it could lift this entry to the top
                could_lead = (1 - ww) * score + ww * 100 >= leader
                worded = self._wording(index, sorted_wording, matched, touched) if could_lead else 0.0
                blended = (1 - ww) * score + ww * worded
                if best >= 0.999:
                    blended = max(blended, tune.exact_score)
            if index == verbatim:
                blended = max(blended, tune.exact_score)
            leader = max(leader, blended)
            if index == self.not_answerable:
                nearest_unanswerable = blended
                continue
            scored.append(
                Candidate(self.entries[index], round(blended, 2), round(best, 3), round(coverage, 3), round(score, 2))
            )
        scored.sort(key=lambda c: c.score, reverse=True)
        return Ranking(tokens, scored[: limit or len(scored)], cues, round(nearest_unanswerable, 2), elsewhere)

    def _wording(self, index: int, sorted_wording: str, matched: list[float], touched: list[int]) -> float:
        """rapidfuzz token-sort similarity of the whole wording to the entry's closest alternate questions
        (plain similarity of the words sorted, which the alternates are stored as)."""
        wordings = self.wordings[index]
        closest = sorted(touched, key=matched.__getitem__, reverse=True)[: self.tuning.wording_candidates]
        near = [wordings[j] for j in closest if wordings[j]]  # keywords have no wording
        return process.extractOne(sorted_wording, near, scorer=fuzz.ratio)[1] if near else 0.0

    def evidence(self, ranking: Ranking) -> Evidence:
        tokens, ranked = ranking.tokens, ranking.candidates
        weights = {t: self.weight(t) for t in tokens}
        total = sum(weights.values()) or 1.0
        top_tokens = self.entry_tokens[self.position[ranked[0].entry.id]] if ranked else frozenset()
        return Evidence(
            score=ranked[0].score if ranked else 0.0,
            lead=ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0) if ranked else 0.0,
            explained=sum(w for t, w in weights.items() if t in top_tokens) / total,
            unknown=sum(w for t, w in weights.items() if t not in self.idf) / total,
            length=len(tokens),
            offtopic=ranking.cues,
            phrasing=ranked[0].phrasing if ranked else 0.0,
            information=sum(w for t, w in weights.items() if t in top_tokens and t in self.idf),
            matched=ranked[0].matched if ranked else 0.0,
            unanswerable=ranking.unanswerable,
            elsewhere=ranking.elsewhere,
        )

    def match(self, text: str) -> Match:
        ranking = self.rank(text)
        tokens, ranked = ranking.tokens, ranking.candidates
        normalised = " ".join(tokens)
        tune = self.tuning
        if not ranked:
            reason = "no words the knowledge uses" if tokens else "no content words"
            return Match(ReplyKind.UNKNOWN, normalised, (), reason)
        evidence = self.evidence(ranking)
        confidence = evidence.confidence(tune.confidence_weights)
        facts = (
            f"confidence {confidence:.2f} (score {evidence.score:.1f}, lead {evidence.lead:.1f}, "
            f"explained {evidence.explained:.0%}, unknown words {evidence.unknown:.0%}, {evidence.length} tokens, "
            f"{evidence.offtopic} off-topic cues)"
        )
        withheld = tune.withheld(evidence)
        if confidence >= tune.answer_at and not withheld:
            return Match(
                ReplyKind.ANSWER, normalised, tuple(ranked), f"{facts} ≥ {tune.answer_at}", entry=ranked[0].entry
            )
        if confidence < tune.suggest_at:
            return Match(ReplyKind.UNKNOWN, normalised, tuple(ranked), f"{facts} < {tune.suggest_at}")
        if evidence.elsewhere or evidence.refused:  # not ours to answer, so no "did you mean" either
            return Match(ReplyKind.UNKNOWN, normalised, tuple(ranked), f"{facts}, but {withheld}")
        reason = f"{facts} ≥ {tune.answer_at}, but {withheld}" if withheld else f"{facts} < {tune.answer_at}"
        floor = ranked[0].score * tune.suggest_within
        plausible = tuple(c.entry for c in ranked if c.score >= floor)[: tune.max_suggestions]
        return Match(ReplyKind.SUGGEST, normalised, tuple(ranked), reason, suggestions=plausible)

    def complete(self, text: str, limit: int = 25) -> list[Entry]:
        """Entries for an autocomplete box: ranked by the engine, then by title similarity for half-typed words."""
        ranked = self.rank(text).candidates
        found = [c.entry for c in ranked]
        if len(found) < limit and text.strip():
            titles = {i: e.title for i, e in enumerate(self.entries)}
            extra = process.extract(
                text, titles, scorer=fuzz.partial_ratio, processor=normalise, limit=limit, score_cutoff=60
            )
            found += [self.entries[i] for _, _, i in extra if self.entries[i] not in found]
        return found[:limit]
