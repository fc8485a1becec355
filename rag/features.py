"""What the learned decision sees of each sentence that could answer a question.

Every sentence of the retrieved passages is a candidate. Its features say how close it
is to the question (cosine, absolute and against the best candidate), how many of the
question's words it and its passage hold (IDF-weighted; across languages, the
question's translated words), what it adds that the question lacks, whether it holds
the kind of answer asked for (a date for "when": a feature, never a veto), whether it
is a heading or title line, and what is known of the question as a whole: how much of
it the collection mentions at all, whether it names a number or acronym the documents
never do, and whether it is closer to everyday phrases than to the documents.
:func:`candidates` is used the same way when training (rag.training) and answering.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag import background, grounding
from rag.answer_types import holds
from rag.chunking import UNFINISHED, is_heading
from rag.languages import ACRONYM, NUMBER, chinese_numeral, roman_value, stem
from rag.lexical import tokenize
from rag.query import Query
from rag.retriever import Hit, Retriever
from rag.settings import DEFAULT_FUSION
from rag.translation import in_dictionary

logger = logging.getLogger(__name__)

FEATURES: tuple[str, ...] = (
    "cos",  # sentence cosine with the question (across languages, raised by the offset)
    "cos_gap",  # that cosine minus the best candidate's (0 for the best)
    "passage_cos",  # the passage's cosine with the question
    "rank",  # 1 / (1 + rank of the passage in the search)
    "overlap",  # IDF-weighted share of the question's words the sentence holds
    "passage_overlap",  # the same for the passage and its section title
    "coverage",  # the same for the whole collection (question-level)
    "novelty",  # share of the sentence's words the question does not hold
    "kind_asked",  # the question asks for a kind of answer (a date, a place, …)
    "kind_held",  # … and this sentence holds one
    "heading",  # a heading or title line
    "length",  # log of the sentence's length
    "cross",  # the sentence is in the other language than the question
    "everyday_gap",  # closest everyday phrase minus best sentence cosine (question-level)
    "missing",  # names a number or acronym found nowhere in the documents (question-level)
    "ungrounded",  # share of its specific Chinese nouns found nowhere (question-level)
    "english",  # the question is in English
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that could be quoted as (part of) the answer."""

    hit: int  # rank of its passage among the hits
    sentence: int  # index into the chunk's sentences
    span: tuple[int, int]  # within the chunk's text
    items: tuple[tuple[int, int], ...]  # list lines it leads in to, within the chunk's text
    values: tuple[float, ...]  # in the order of FEATURES
    chinese: bool = True  # is its passage in Chinese (else English)?
    unfinished: bool = False  # it ends in a semicolon or comma: the next sentence goes on

    def feature(self, name: str) -> float:
        return self.values[FEATURES.index(name)]

    @property
    def chars(self) -> int:
        """Characters quoting it takes: it and the list lines it leads in to."""
        return sum(b - a for a, b in (self.span, *self.items))


@functools.lru_cache(maxsize=65536)
def _terms(text: str) -> frozenset[str]:
    """The words of ``text``, English ones stemmed ("takes place" holds "take place")."""
    return frozenset(stem(t) for t in tokenize(text))


def _weighted_share(words: Sequence[str], held: frozenset[str], retriever: Retriever) -> float:
    total = sum(retriever.idf(w) for w in words)
    if total <= 0:
        return 0.0
    return sum(retriever.idf(w) for w in words if stem(w) in held) / total


def candidates(query: Query, hits: Sequence[Hit], retriever: Retriever) -> list[Candidate]:
    """Every sentence of ``hits`` with its features, passages in rank order."""
    own = tuple(dict.fromkeys(query.search_terms))
    # each of the question's words with its translations into the documents' other
    # language: a passage in that language holds the word when it holds a translation
    other_language = any(hit.chinese != query.chinese for hit in hits)
    translations = query.word_translations if other_language else {}
    offset = DEFAULT_FUSION.cross_lingual_offset
    shift = [offset if hit.chinese != query.chinese else 0.0 for hit in hits]
    best = max(
        (s + shift[i] for i, hit in enumerate(hits) for s in hit.sentence_scores), default=0.0
    )
    question_level = _question_features(query, own, translations, best, retriever)
    out = []
    for h_i, hit in enumerate(hits):
        across = hit.chinese != query.chinese
        chunk = hit.chunk
        passage_words = _terms(f"{chunk.section}\n{chunk.text}")
        headings = set(chunk.section.split(" › ")) if chunk.section else set()
        for s_i, (a, b) in enumerate(chunk.sentences[: len(hit.sentence_scores)]):
            sentence = chunk.text[a:b]
            items = list_items(chunk.text, chunk.sentences, s_i)
            quoted = "\n".join(chunk.text[x:y] for x, y in [(a, b), *items])
            held = _terms(quoted)
            cos = hit.sentence_scores[s_i] + shift[h_i]
            kind_held = bool(query.kind) and holds(quoted, query.kind)  # type: ignore[arg-type]
            if across:
                overlap = _translated_share(translations, held)
                passage_overlap = _translated_share(translations, passage_words)
                asked = frozenset(stem(t) for forms in translations.values() for t in forms)
            else:
                overlap = _weighted_share(own, held, retriever)
                passage_overlap = _weighted_share(own, passage_words, retriever)
                asked = frozenset(stem(w) for w in own)
            values = {
                "cos": cos,
                "cos_gap": cos - best,
                "passage_cos": hit.dense + shift[h_i],
                "rank": 1.0 / (1 + h_i),
                "overlap": overlap,
                "passage_overlap": passage_overlap,
                "novelty": len(held - asked) / max(1, len(held)),
                "kind_asked": float(query.kind is not None),
                "kind_held": float(kind_held),
                "heading": float(is_heading(chunk.text, a, b, headings)),
                "length": math.log1p(len(sentence.strip())) / 5,
                "cross": float(hit.chinese != query.chinese),
                **question_level,
            }
            row = tuple(values[f] for f in FEATURES)
            unfinished = sentence.rstrip()[-1:] in UNFINISHED
            out.append(Candidate(h_i, s_i, (a, b), tuple(items), row, hit.chinese, unfinished))
    return out


def _translated_share(translations: dict[str, tuple[str, ...]], held: frozenset[str]) -> float:
    """Share of the question's words ``held`` (stemmed) as written or through a translation.
    A word CC-CEDICT does not know counts only where it is held as written: a name such
    as "Tomsk" is written in the other language's own way (托木斯克), which no word check
    can tell from its absence. A number is written alike in both, and always counts."""
    counted = [
        forms
        for word, forms in translations.items()
        if len(forms) > 1 or in_dictionary(word) or word.isdigit() or stem(word) in held
    ]
    if not counted:
        return 0.0
    return sum(any(stem(f) in held for f in forms) for forms in counted) / len(counted)


def _question_features(
    query: Query,
    own: Sequence[str],
    translations: dict[str, tuple[str, ...]],
    best: float,
    retriever: Retriever,
) -> dict[str, float]:
    vector = retriever.query_vector(query.search_text)
    everyday = background.closest(retriever.embedder, vector)
    coverage = _weighted_share(own, retriever.known_terms(own), retriever)
    if translations:  # across languages: words the documents hold as written or translated
        known = retriever.known_terms([t for forms in translations.values() for t in forms])
        coverage = max(coverage, _translated_share(translations, frozenset(map(stem, known))))
    ungrounded = 0.0
    if query.chinese and retriever.languages == {"zh"}:
        nouns = grounding.specific_nouns(query.text)
        if nouns:
            missing = grounding.ungrounded(
                query.text, retriever.searchable_text, retriever.data.glossary
            )
            ungrounded = len(missing) / len(nouns)
    return {
        "coverage": coverage,
        "everyday_gap": everyday - best,
        "missing": float(bool(missing_specifics(query.search_text, retriever))),
        "ungrounded": ungrounded,
        "english": float(query.language == "en"),
    }


def missing_specifics(text: str, retriever: Retriever) -> list[str]:
    """Numbers (years, counts) and acronyms ("ABAC") ``text`` names that appear nowhere in
    the documents, an acronym neither as written nor through the glossary ("US" -> 美国),
    a Roman numeral neither as written nor as a number ("Benedict XVI": 16, 十六)."""
    searchable = retriever.searchable_text
    missing = [n for n in NUMBER.findall(text) if len(n) >= 2 and n not in searchable]
    if not text.isupper():  # in a question typed in capitals every word looks like one
        missing += [
            a
            for a in ACRONYM.findall(text)
            if a.lower() not in searchable
            and a.lower() not in retriever.data.glossary
            and not _number_held(roman_value(a), searchable)
        ]
    return list(dict.fromkeys(missing))


def _number_held(value: int | None, searchable: str) -> bool:
    """Do the documents write the number ``value`` in digits or Chinese numerals?"""
    if value is None:
        return False
    return re.search(rf"(?<!\d){value}(?!\d)", searchable) is not None or (
        value >= 10 and chinese_numeral(value) in searchable
    )


def list_items(
    text: str, sentences: Sequence[tuple[int, int]], s_i: int
) -> list[tuple[int, int]]:
    """The list lines right after sentence ``s_i`` when it leads in to them (ends in a colon)."""
    a, b = sentences[s_i]
    if text[a:b].rstrip()[-1:] not in ("：", ":"):
        return []
    items = []
    for x, y in sentences[s_i + 1 :]:
        if x == 0 or text[x - 1] != "\n" or "\n" in text[x:y]:
            break
        items.append((x, y))
    return items
