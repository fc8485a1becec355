"""BM25 as sparse vectors: the inner product is rag.lexical's BM25 score."""

from __future__ import annotations

import numpy as np
import pytest

from rag.lexical import BM25, tokenize
from rag.milvus_bm25 import NO_TERM, Vocabulary, sparse_rows

CORPUS = [tokenize(t) for t in ("供應鏈韌性 供應鏈", "green tea tea leaves", "會議", "")]
CHINESE = [True, False, True, False]


@pytest.mark.parametrize("query", [["tea"], tokenize("供應鏈 tea 會議 tea"), ["nowhere"], []])
def test_inner_product_is_the_bm25_score(query: list[str]) -> None:
    vocabulary = Vocabulary.of(CORPUS, CHINESE)
    sparse = vocabulary.query(query)
    rows = sparse_rows(CORPUS, vocabulary)
    ours = [sum(w * row.get(d, 0.0) for d, w in sparse.items()) for row in rows]
    np.testing.assert_allclose(ours, BM25(CORPUS).scores(query), rtol=1e-5, atol=1e-6)


def test_terms_are_numbered_in_order_with_their_document_frequency() -> None:
    vocabulary = Vocabulary.of(CORPUS, CHINESE)
    assert list(vocabulary.ids) == sorted(vocabulary.ids)
    assert list(vocabulary.ids.values()) == list(range(len(vocabulary.ids)))
    assert vocabulary.df[vocabulary.ids["tea"]] == 1  # once per passage, however often in it
    assert vocabulary.idf("tea") == pytest.approx(BM25(CORPUS).idf("tea"))
    assert vocabulary.idf("nowhere") == pytest.approx(BM25(CORPUS).idf("nowhere"))
    assert vocabulary.query(["nowhere"]) == {}


def test_a_passage_without_terms_gets_a_dimension_no_query_has() -> None:
    rows = sparse_rows(CORPUS, Vocabulary.of(CORPUS, CHINESE))
    assert rows[3] == {NO_TERM: 1.0}  # Milvus refuses an empty sparse row
    assert NO_TERM not in Vocabulary.of(CORPUS, CHINESE).query(["tea", "會議"])


def test_the_terms_held_in_each_language_are_known() -> None:
    vocabulary = Vocabulary.of(CORPUS, CHINESE)
    english = vocabulary.held_in(chinese=False)
    chinese = vocabulary.held_in(chinese=True)
    assert english is not None and chinese is not None
    assert {"tea", "green"} <= english and not english & set(tokenize("會議"))
    assert set(tokenize("會議")) <= chinese and "tea" not in chinese
    older = Vocabulary(vocabulary.ids, vocabulary.df, vocabulary.passages)  # no chinese_df
    assert older.held_in(chinese=True) is None
