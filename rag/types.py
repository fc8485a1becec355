"""Result types shared by every layer: passages found and answers given."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    """A retrieved span of a source document.

    ``original[start:end]`` of the source file (``source``, relative to the seeds
    folder) is the span the passage came from; ``text`` is that span cleaned.
    ``highlights`` are ``(start, end)`` ranges *within* ``text`` that an answer
    quoted (empty for plain search results); ``quoted`` are the same ranges in the
    source file's own coordinates: ``original[a:b]`` is where each quoted sentence came
    from (the text shown is that span cleaned, see rag.documents). For a PDF, Word or
    HTML source, ``original`` is the text extracted from the file (``rag.source_text``
    returns it) and ``page`` names the PDF page the passage starts on.
    """

    id: str
    text: str
    score: float
    source: str
    start: int
    end: int
    section: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    quoted: tuple[tuple[int, int], ...] = ()
    page: int | None = None  # the page of a PDF source the passage starts on, from 1
    # those of ``highlights`` the answer quotes as also mentioned, not as its answer: for
    # a question asking one date or place, a further sentence that holds another one
    also: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Answer:
    """A grounded answer: ``text`` carries markers ``[n]`` that point at ``citations[n-1]``."""

    text: str
    citations: list[Passage] = field(default_factory=list)
    abstained: bool = False
    language: str = "en"  # "zh-Hant", "zh-Hans" or "en"
    notice: str = ""  # e.g. why the LLM was not used
    related: list[Passage] = field(default_factory=list)  # "possibly related" when abstaining
    confidence: float | None = None  # probability that the best quoted sentence answers
    stage: str = ""  # the stage that decided: "compose", "summary" (a document's lead for
    # "what is it about?"), "llm", "translation" (the model's checked translation above the
    # quoted answer), or the decline stage's name


@dataclass(frozen=True)
class Draft:
    """An answer shown while a language model writes its own: the quoted, cited answer.
    The final :class:`Answer` of the same stream replaces it."""

    answer: Answer
