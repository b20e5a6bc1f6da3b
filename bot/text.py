"""Text handling shared by the engine and the service: cleaning chat markup and normalising words.

Pure functions and small data only; the domain vocabulary (synonyms and
abbreviations) lives in knowledge/synonyms.yaml, not here.
"""

from __future__ import annotations

import gzip
import json
import pkgutil
import re
import unicodedata
from functools import lru_cache

import snowballstemmer

MAX_QUESTION_CHARS = 500

_MARKUP = re.compile(
    # Slack <@U1>, <#C1|x>, <!channel>, <http://..|x>; Discord <@1>, <#1>
    r"<(?:[@#!][^<>\s]*|(?:https?|mailto):[^<>]*)>"
    r"|<a?:\w+:\d+>"  # Discord custom emoji
    r"|<t:\d+(?::\w)?>"  # Discord timestamps
    r"|(?<![\w.])@[\w.-]+",  # @everyone, @here, and a typed "@careerbot": addressing, never content
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_CONTRACTION = re.compile(r"(\w+)'(t|s|re|m|ve|ll|d)\b")  # one pass for every contraction (9 patterns were 3x slower)
_CONTRACTED = {"re": " are", "m": " am", "ve": " have", "ll": " will", "d": " would", "s": ""}
_WORD = re.compile(r"(?:[^\W_]|[+#])+")  # letters and digits, and the + and # of "c++" and "c#"
_HOUR_RANGE = re.compile(r"\b(\d{1,2})\s*-\s*(\d{1,2})\b")  # "9-5" reads as "9 to 5"
# Chat shorthand read as the words it stands for (after punctuation is dropped).
TEXT_SPEAK = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "y": "why",
    "k": "ok",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thank you",
    "rly": "really",
    "srsly": "seriously",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "tho": "though",
    "thru": "through",
    "b4": "before",
    "smth": "something",
    "sth": "something",
    "prob": "probably",
    "def": "definitely",
    "ppl": "people",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "outta": "out of",
    "kinda": "kind of",
    "sorta": "sort of",
    "dunno": "do not know",
    "idk": "i do not know",
    "kno": "know",
    "enuf": "enough",
    "ez": "easy",
    "yoe": "years of experience",
    "exp": "experience",
    "w": "with",
    "wo": "without",
    "msg": "message",
    "qs": "questions",
    "q": "question",
    "pic": "picture",
    "rn": "now",
    "hrs": "hours",
    "wk": "week",
    "proj": "project",
    "irl": "in real life",
    "rto": "return to office",
    "langs": "languages",
    "lang": "language",
    "bg": "background",
    "webdev": "web developer",
    "cybersec": "cybersecurity",
}

STOP_WORDS = frozenset(
    """
    a about above actually after again all also am an and any anyone anything are around as at be because been
    before being below between both but by can could did do does doing done down during each either else even
    ever every few for from further get gets getting go going gonna got had has have having he her here hers
    him his how however i if in into is it its itself just kind kinda know let like me might mine more most
    much must my myself nor now of off on once one only or other our ours out over own pls please quite rather
    really same say says she should so some someone something sort such tell than that the their them then
    there these they thing things this those though through thru to too u ur up us very wanna want was way we
    well were what whats when where whether which while who whom whose why will with would ya yeah yes yet you
    your yours yourself 2 4 r n y im ive id hey wat wut wht whta hw abt bc cuz coz lol lmao haha hehe ok okay
    ngl fr lowkey highkey bruh smh istg fam nah af deadass bit hmm tbh btw idk imo thx ty plz guys folks ppl yall
    dumb q quick question everything nothing everyone everybody nobody anybody somebody wonder wondering curious
    basically honestly pretty totally super seriously literally definitely extremely truly absolutely genuinely
    probably maybe perhaps
    """.split()
)

_stemmer = snowballstemmer.stemmer("english")


def clean_message(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """Strip chat markup (mentions, channel pings, custom emoji) and control characters; cap the length.

    Returns the cleaned text and whether it was cut. Never raises.
    """
    text = _MARKUP.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut, True


def normalise(text: str) -> str:
    """NFKC, case folding, contractions expanded, punctuation dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    if "-" in text:
        text = _HOUR_RANGE.sub(r"\1 to \2", text)
    text = text.replace("w/o", "without")
    while "'" in text:  # again for chains: "shouldn't've"
        expanded = _CONTRACTION.sub(_expand_contraction, text)
        if expanded == text:
            break
        text = expanded
    return " ".join(TEXT_SPEAK.get(w, w) for w in _WORD.findall(text))


def _expand_contraction(found: re.Match[str]) -> str:
    word, ending = found.group(1), found.group(2)
    if ending != "t":
        return word + _CONTRACTED[ending]
    if not word.endswith("n"):
        return found.group(0)
    return {"can": "can not", "won": "will not"}.get(word, word[:-1] + " not")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce a word to its stem, so plurals and -ing/-ed forms meet ("salaries" and "salary")."""
    if not word.isalpha() or len(word) <= 3:
        return word
    return _stemmer.stemWord(word)


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    """pyspellchecker's English word frequencies, read the way the library reads them (its ``SpellChecker``
    also indexes them for corrections we never ask it for: twice as slow to start)."""
    data = pkgutil.get_data("spellchecker", "resources/en.json.gz") or b"{}"
    frequencies: dict[str, int] = json.loads(gzip.decompress(data))
    return frequencies


def is_english_word(word: str, min_frequency: int = 100) -> bool:
    """Whether ``word`` is a real English word (so "bread" is not a misspelling of "break")."""
    return _english().get(word, 0) >= min_frequency
