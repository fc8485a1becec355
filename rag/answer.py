"""Grounded answers with inline citations, and honest abstention.

The default answerer needs no LLM: it quotes the sentences of the retrieved passages
that best answer the question, each followed by its marker ``[n]``, under a one-line
lead-in in the question's language. When an OpenAI-compatible endpoint is configured
(``RAG_LLM_BASE_URL`` / ``RAG_LLM_MODEL``), the quoted answer is shown at once and the
model then writes one from the best passages (rag.generate); it replaces the quoted
answer once every sentence of it has been checked against its passages (rag.claims).
A declined question is never sent to the model. Either way markers are renumbered by
first use, markers that point at no passage are removed, and ``citations[n-1]`` is
what ``[n]`` points to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np

from rag import grounding, multilingual
from rag.answer_types import ONE_VALUE
from rag.decide import STAGES, Context, Decline, Scored, Stage, decide
from rag.decision import DEFAULT_MODEL, DecisionModel
from rag.features import Candidate, candidates
from rag.generate import Generator, llm_messages, resolve_markers
from rag.language import Language, to_simplified_characters
from rag.llm import ChatClient, LLMConfig
from rag.query import History, Query, analyse, conversation, retrieval_query, search
from rag.retriever import Hit, Retriever
from rag.settings import DEFAULT_POLICY, AnswerPolicy
from rag.types import Answer, Draft, Passage

__all__ = [
    "AnswerPolicy",
    "Assistant",
    "History",
    "llm_messages",
    "resolve_markers",
    "retrieval_query",
]

logger = logging.getLogger(__name__)

Event = str | Draft | Answer

_MARKER = re.compile(r"\[(\d{1,3})\]")

LEAD_IN: dict[str, str] = {
    "en": "From the documents:",
    "zh-Hant": "根據文件：",
    "zh-Hans": "根据文件：",
}
NOT_COVERED: dict[str, str] = {
    "en": "The documents don't cover this question.",
    "zh-Hant": "文件中沒有這個問題的答案。",
    "zh-Hans": "文件中没有这个问题的答案。",
}
ASK_WHOLE: dict[str, str] = {
    "en": "What is this question about? Please ask it in full, naming what you mean.",
    "zh-Hant": "這個問題沒有說明問的是什麼，請把問題問完整，說出您指的是哪件事。",
    "zh-Hans": "这个问题没有说明问的是什么，请把问题问完整，说出您指的是哪件事。",
}
GREETING: dict[str, str] = {
    "en": "Hello! Ask me a question about the documents and I will answer with quotes "
    "from them, citing where each comes from.",
    "zh-Hant": "您好！請問關於文件的問題，我會引用文件原文回答，並標明出處。",
    "zh-Hans": "您好！请问关于文件的问题，我会引用文件原文回答，并标明出处。",
}
THANKS: dict[str, str] = {
    "en": "You're welcome! Ask me anything else about the documents.",
    "zh-Hant": "不客氣！還有關於文件的問題，歡迎再問。",
    "zh-Hans": "不客气！还有关于文件的问题，欢迎再问。",
}
CUT: dict[str, str] = {
    "en": "The question was long: only its first {n} characters were used.",
    "zh-Hant": "問題太長，只使用了前 {n} 個字元。",
    "zh-Hans": "问题太长，只使用了前 {n} 个字符。",
}
ALSO: dict[str, str] = {  # before sentences quoted besides the answer (rag.answer.compose)
    "en": "Also mentioned:",
    "zh-Hant": "文件中另有提及：",
    "zh-Hans": "文件中另有提及：",
}
RELATED: dict[str, str] = {
    "en": "Some passages may be related.",
    "zh-Hant": "有些段落或許相關。",
    "zh-Hans": "有些段落或许相关。",
}
class Assistant:
    """Answers questions from a :class:`Retriever`, optionally through an LLM.

    A question goes through named stages, in this order: analyse (rag.query) →
    retrieve (rag.retriever) → score each candidate sentence (rag.features,
    rag.decision) → decide (rag.decide: the first decline stage that declines) →
    compose (quote the most likely sentences) or generate (LLM).
    """

    def __init__(
        self,
        retriever: Retriever,
        llm: LLMConfig | ChatClient | str | None = "env",
        policy: AnswerPolicy = DEFAULT_POLICY,
        model: DecisionModel | str | None = None,
        stages: Sequence[Stage] = STAGES,
    ) -> None:
        self.retriever = retriever
        self.policy = policy
        self.stages = tuple(stages)
        if model is None or isinstance(model, str):
            model = DecisionModel.load(model or DEFAULT_MODEL)
        self.model = model
        if llm == "env":
            config = LLMConfig.from_env()
            self.llm: ChatClient | None = ChatClient(config) if config else None
        elif isinstance(llm, LLMConfig):
            self.llm = ChatClient(llm)
        elif isinstance(llm, ChatClient) or llm is None:
            self.llm = llm
        else:
            raise ValueError(f"llm must be an LLMConfig, a ChatClient, None or 'env', not {llm!r}")
        self.generator = Generator(self.llm, retriever) if self.llm is not None else None

    def warm_up(self) -> None:
        """Load everything answering loads lazily (index, tagger, dictionary, the
        multilingual encoder), so the first question is as quick as the rest."""
        self.ask("warm up")
        grounding.prepare()
        if self.retriever.has_multilingual:
            multilingual.query_vector("warm up")

    def ask(self, question: str, history: History | None = None) -> Answer:
        """The complete answer to ``question`` given the conversation so far."""
        answer = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: History | None = None) -> Iterator[Event]:
        """Text deltas as the answer is written, then the final :class:`Answer`.

        With an LLM, the quoted answer comes first as a :class:`Draft`, then the model's
        reply as text deltas, then the final answer: the reply's sentences that the
        passages support (rag.claims), or the quoted answer with a notice. The final
        answer's text is authoritative.
        """
        history = conversation(history)
        query = analyse(question, history, self.retriever, self.policy)
        found, hits = self.retrieve(query)
        scored = self.score(query, hits)
        # a follow-up is covered when its conversation is: "開了多久？" alone is far from
        # every sentence, with the question before it it is not
        covered = scored if found is hits else self.score(query, found)
        best = max((s[0].probability for s in (scored, covered) if s), default=0.0)
        context = Context(query, hits, scored, self.model.threshold, best)
        verdict = decide(context, self.stages)
        answer = declined_answer(query, verdict, hits, scored, self.policy, self.model)
        if answer is None and query.summary:
            answer = summarise(query, hits, scored, self.retriever, self.policy)
        if answer is None:
            answer = compose(query, hits, scored, self.policy, self.model.threshold)
        if query.cut:
            answer = replace(answer, notice=CUT[query.language].format(n=len(query.text)))
        if verdict is not None or self.generator is None:
            yield from _chunks(answer.text)
            yield answer
            return
        # the quoted answer at once; the model's, once checked, replaces it
        yield Draft(answer)
        yield from self.generator.stream(query, hits, scored, history, answer)

    def retrieve(self, query: Query) -> tuple[list[Hit], list[Hit]]:
        """The passages found for the search text, and those to answer from.

        A follow-up is answered from the passages nearest the
        conversation, its sentences scored on both the follow-up and the conversation;
        for any other question the two lists are the same.
        """
        p = self.policy
        hits = search(query, self.retriever, p.k)
        if not query.follow_up:
            return hits, hits
        nearest = hits[: p.follow_up.depth]
        return nearest, self.retriever.rescore(nearest, query.text, p.follow_up.weight)

    def score(self, query: Query, hits: Sequence[Hit]) -> list[Scored]:
        """Every candidate sentence with the model's probability that it answers, best first."""
        found = candidates(query, hits, self.retriever)
        if not found:
            return []
        probabilities = self.model.probabilities(np.array([c.values for c in found]))
        scored = [Scored(c, float(p)) for c, p in zip(found, probabilities)]
        return sorted(scored, key=lambda s: -s.probability)


# ---------------------------------------------------------------------------- compose


def declined_answer(
    query: Query,
    verdict: Decline | None,
    hits: Sequence[Hit],
    scored: Sequence[Scored],
    policy: AnswerPolicy,
    model: DecisionModel,
) -> Answer | None:
    """The answer for a declined question (None when it was not declined), with nearby
    passages as possibly related when the best candidate came close to the threshold."""
    if verdict is None:
        return None
    confidence = scored[0].probability if scored else 0.0
    related = []
    if verdict.offer_related and confidence >= policy.related_share * model.threshold:
        related = [h.passage for h in hits[: policy.related]]
    messages = {"greeting": GREETING, "thanks": THANKS, "ask_whole": ASK_WHOLE}.get(
        verdict.kind, NOT_COVERED
    )
    return declined(query.language, related, confidence, verdict.stage, messages)


def declined(
    language: Language,
    related: list[Passage],
    confidence: float | None = None,
    stage: str = "",
    messages: dict[str, str] = NOT_COVERED,
) -> Answer:
    """The answer that declines in ``language`` (by default: the documents don't cover the
    question), offering ``related``."""
    text = messages[language]
    if related:
        text += " " + RELATED[language]
    return Answer(
        text=text,
        citations=[],
        abstained=True,
        language=language,
        related=related,
        confidence=confidence,
        stage=stage,
    )


def select(
    query: Query, scored: Sequence[Scored], policy: AnswerPolicy, threshold: float
) -> list[Scored]:
    """The sentences to quote: the most likely one, then those at least
    ``policy.companion_ratio`` as likely (and above the threshold), within the policy's
    sentence and character limits; those holding the kind of answer asked for (a date for
    "when") first. A heading or title line is never quoted; only a byline says who wrote
    the document."""
    if query.kind == "author" and any(s.candidate.feature("kind_held") for s in scored):
        scored = [s for s in scored if s.candidate.feature("kind_held")]
    picked: list[Scored] = []
    used: set[tuple[int, int]] = set()
    total = 0
    for s in scored:
        c = s.candidate
        if picked and (
            len(picked) >= policy.max_sentences
            or s.probability < max(threshold, policy.companion_ratio * picked[0].probability)
        ):
            break
        byline = query.kind == "author"  # a byline is a short line of its own
        if (c.feature("heading") and not byline) or (c.hit, c.sentence) in used:
            continue
        size = _share(c, policy)
        if picked and total + size > 1:
            continue
        used.add((c.hit, c.sentence))
        used.update((c.hit, c.sentence + 1 + j) for j in range(len(c.items)))
        picked.append(s)
        total += size
    return in_reading_order(picked)


def _share(c: Candidate, policy: AnswerPolicy) -> float:
    """The share of an answer's length that quoting ``c`` takes, counted against the
    budget of its own language (``AnswerPolicy.quote_chars``)."""
    return c.chars / policy.quote_chars(c.chinese)


def in_reading_order(picked: Sequence[Scored]) -> list[Scored]:
    """``picked`` as quoted: likeliest first, those holding the kind of answer asked for (a
    date for "when") leading, except that a sentence ending in a semicolon or comma keeps
    the one that goes on from it right after it ("一家名为…；" then "另一家名为…")."""
    runs: list[list[Scored]] = []
    for s in sorted(picked, key=lambda s: (s.candidate.hit, s.candidate.sentence)):
        c = s.candidate
        if runs:
            last = runs[-1][-1].candidate
            follows = c.sentence == last.sentence + 1 + len(last.items)
            if c.hit == last.hit and follows and last.unfinished:
                runs[-1].append(s)
                continue
        runs.append([s])

    def lead(run: list[Scored]) -> tuple[bool, float]:
        holds = any(s.candidate.feature("kind_held") for s in run)
        return (not holds, -max(s.probability for s in run))

    return [s for run in sorted(runs, key=lead) for s in run]


def rivals(query: Query, picked: Sequence[Scored]) -> tuple[list[Scored], list[Scored]]:
    """``picked`` split into the answer and the sentences that hold another value of the
    one thing asked: for "那什麼時候？" after a question on the leaders' meeting, the CEO
    Summit's 14日至16日 besides the meeting's 11月15日至17日. The likeliest sentence
    holding a value is the answer, wherever it stands in the document; the others are
    quoted after it, as also mentioned: they may hold the value when it does not."""
    holding = [s for s in picked if s.candidate.feature("kind_held")]
    if query.kind not in ONE_VALUE or not holding:
        return list(picked), []
    best = max(holding, key=lambda s: s.probability)
    also = [s for s in holding if s is not best]
    return [s for s in picked if s not in also], also


def summarise(
    query: Query,
    hits: Sequence[Hit],
    scored: Sequence[Scored],
    retriever: Retriever,
    policy: AnswerPolicy,
) -> Answer | None:
    """The answer to what the documents say ("What is this article about?"): for each
    document found, most relevant first, its title line and the first sentences of its
    lead passages (``policy.summary_sentences``; bylines, section headings and photo
    captions left out), within the policy's limits. No confidence: it is the documents'
    own title and lead, not a judgement. None when no opening passage was found."""
    by_place = {(s.candidate.hit, s.candidate.sentence): s for s in scored}
    leads, openings = set(retriever.leads), set(retriever.openings)
    found = sorted(
        (hit.index, h_i)
        for h_i, hit in enumerate(hits)
        if hit.index in leads and hit.chunk.kind != "caption"
    )
    documents = dict.fromkeys(hits[h_i].passage.source for h_i in sorted(h for _, h in found))
    picked: list[Scored] = []
    total = 0
    for source in documents:
        title: list[Scored] = []
        body: list[Scored] = []
        for index, h_i in found:
            if hits[h_i].passage.source != source:
                continue
            for s_i in range(len(hits[h_i].chunk.sentences)):
                s = by_place.get((h_i, s_i))
                if s is None:
                    continue
                if not s.candidate.feature("heading"):
                    body.append(s)
                elif index in openings and s_i == 0:
                    title.append(s)  # the line the document opens with
        group: list[Scored] = []  # its title with as much of its lead as fits, or nothing
        size = total
        for s in [*title, *body[: policy.summary_sentences]]:
            share = _share(s.candidate, policy)
            full = len(picked) + len(group) >= policy.max_sentences
            if full or ((picked or group) and size + share > 1):
                break
            group.append(s)
            size += share
        if len(group) > len(title):
            picked += group
            total = size
    if not picked:
        return None
    answer = compose(query, hits, picked, policy, 0.0, picked)
    return replace(answer, confidence=None, stage="summary")


def compose(
    query: Query,
    hits: Sequence[Hit],
    scored: Sequence[Scored],
    policy: AnswerPolicy,
    threshold: float,
    picked: Sequence[Scored] | None = None,
) -> Answer:
    """The default answer: the most likely sentences (or those ``picked``), quoted, each
    with its marker; those that only mention another value of what was asked
    (:func:`rivals`) after the answer, under a line saying so."""
    language: Language = query.language
    picked = list(picked) if picked else select(query, scored, policy, threshold)
    confidence = scored[0].probability if scored else 0.0
    if not picked:
        return declined(language, [], confidence=confidence, stage="compose")
    answer, also = rivals(query, picked)
    numbers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    also_spans: dict[str, list[tuple[int, int]]] = {}
    origins: dict[str, list[tuple[int, int]]] = {}
    lines = [LEAD_IN[language]]
    for s in answer + also:
        c = s.candidate
        hit = hits[c.hit]
        pid = hit.passage.id
        n = numbers.setdefault(pid, len(numbers) + 1)
        spans.setdefault(pid, []).extend([c.span, *c.items])
        if also and s is also[0]:
            lines.append(ALSO[language])
        if s in also:
            also_spans.setdefault(pid, []).extend([c.span, *c.items])
        if hit.chunk.origins:  # an index built before sentences kept them has none
            sentences = range(c.sentence, c.sentence + 1 + len(c.items))
            origins.setdefault(pid, []).extend(hit.chunk.origins[i] for i in sentences)
        a, b = c.span
        quote = hit.chunk.text[a:b].strip()
        quote += "".join("\n- " + hit.chunk.text[x:y].strip() for x, y in c.items)
        if language == "zh-Hans":  # the same words, in the reader's characters
            quote = to_simplified_characters(quote)
        lines.append(f"{quote} [{n}]")
    by_id = {hits[s.candidate.hit].passage.id: hits[s.candidate.hit].passage for s in picked}
    citations = [
        replace(
            by_id[pid],
            highlights=tuple(sorted(spans[pid])),
            quoted=tuple(sorted(origins.get(pid, []))),
            also=tuple(sorted(also_spans.get(pid, []))),
        )
        for pid in sorted(numbers, key=numbers.__getitem__)
    ]
    return Answer(
        text="\n".join(lines),
        citations=citations,
        abstained=False,
        language=language,
        confidence=confidence,
        stage="compose",
    )


def _chunks(text: str, size: int = 24) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def markers_consistent(answer: Answer) -> bool:
    """Every marker resolves to a citation and every citation is used."""
    used = {int(n) for n in _MARKER.findall(answer.text)}
    return used == set(range(1, len(answer.citations) + 1))
