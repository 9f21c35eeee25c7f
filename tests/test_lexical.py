from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index import IndexCorruptError
from index.lexical import LexicalIndex, TermCounts, tokenize

TEXTS = [
    "The council approved 12 new parks on Monday.",
    "Parks and gardens: the council's budget for parks.",
    "A report on the 32nd Universal Periodic Review in Geneva.",
    "Sweden's Diakonia supports the Human Rights Network Project.",
    "",
]


def test_tokenize_stems_drops_stopwords_and_possessives() -> None:
    assert tokenize("The council's parks, non-governmental U.N. 32nd") == [
        "council",
        "park",
        "non-government",
        "non",
        "government",
        "u.n",
        "32nd",
    ]


def test_scores_are_lucene_bm25() -> None:
    lex = LexicalIndex.build(TEXTS, k1=1.2, b=0.75)
    tc = TermCounts.of(TEXTS)
    avgdl = float(tc.doc_lengths.mean())
    df = 2  # "park" is in two passages
    idf = math.log(1 + (len(TEXTS) - df + 0.5) / (df + 0.5))
    dl = len(tokenize(TEXTS[1]))
    expected = idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))
    assert lex.scores(["park"])[1] == pytest.approx(expected, rel=1e-5)
    assert lex.document_frequency("park") == 2
    assert lex.idf("never-seen") > lex.idf("park")


def test_top_matches_full_scores_and_drops_zeros() -> None:
    lex = LexicalIndex.build(TEXTS)
    q = tokenize("council parks review")
    ids, scores = lex.top(q, 10)
    full = lex.scores(q)
    assert list(ids) == [int(i) for i in np.argsort(-full, kind="stable") if full[i] > 0]
    assert np.allclose(scores, full[ids])
    assert np.allclose(lex.score_of(q, np.arange(len(TEXTS))), full)


def test_budget_keeps_rare_terms_and_scores_candidates_exactly() -> None:
    rng = np.random.default_rng(0)
    common = ["human rights cambodia report"] * 3000
    texts = [f"{c} passage {i} {'geneva' if i % 500 == 0 else ''}" for i, c in enumerate(common)]
    texts += [f"rare term zyzzyva appears here {i}" for i in range(5)]
    rng.shuffle(texts)
    lex = LexicalIndex.build(texts)
    q = tokenize("zyzzyva human rights")
    exact = lex.scores(q)
    ids, scores = lex.top(q, 5, budget=100)  # only the rare term finds candidates
    assert set(ids) == set(np.argsort(-exact)[:5])
    assert np.allclose(scores, exact[ids])


def test_weighted_query() -> None:
    lex = LexicalIndex.build(TEXTS)
    ids, _ = lex.top(["park", "review"], 5, weights=[1.0, 3.0])
    assert ids[0] == 2  # the review passage wins once "review" weighs three times more


def test_save_load_round_trip_and_corruption(tmp_path: Path) -> None:
    lex = LexicalIndex.build(TEXTS)
    lex.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    q = tokenize("parks council")
    assert np.allclose(loaded.scores(q), lex.scores(q))
    np.save(tmp_path / "lex" / "indices.npy", np.zeros(1, dtype=np.int32))
    with pytest.raises(IndexCorruptError, match="inconsistent"):
        LexicalIndex.load(tmp_path / "lex")


def test_repeated_query_terms_weigh_more() -> None:
    lex = LexicalIndex.build(TEXTS)
    assert np.allclose(lex.scores(["park", "park"]), 2 * lex.scores(["park"]))
    assert np.allclose(lex.score_of(["park", "park"], np.arange(5)), 2 * lex.scores(["park"]))
