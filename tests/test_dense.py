from __future__ import annotations

from pathlib import Path

import numpy as np

from index.dense import (
    build_dense,
    load_dense,
    probe_queries,
    recall_at_10,
    save_dense,
    search_dense,
)


def clustered(n: int, dim: int = 32, centers: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centers, dim))
    v = c[rng.integers(0, centers, n)] + 0.3 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_small_index_is_exact() -> None:
    v = clustered(500)
    index, info = build_dense(v)
    assert info == {"kind": "flat"}
    ids, scores = search_dense(index, v[7], 3)
    assert ids[0] == 7 and scores[0] > 0.999


def test_large_index_is_approximate_tuned_and_saved(tmp_path: Path) -> None:
    v = clustered(6000)
    index, info = build_dense(v, exact_limit=1000)
    assert info["kind"] == "ivf-sq8"
    assert info["recall_at_10"] >= 0.95
    save_dense(index, tmp_path / "d.faiss")
    loaded = load_dense(tmp_path / "d.faiss", info)
    assert loaded.nprobe == info["nprobe"]
    queries = probe_queries(v, 100, np.random.default_rng(5))
    assert recall_at_10(loaded, v, queries) >= 0.95


def test_structureless_vectors_fall_back_to_exact() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(3000, 64)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    _, info = build_dense(v, exact_limit=500)
    assert info["kind"] == "flat"
    assert info["ivf_recall_at_10"] < 0.95


def test_search_on_empty_index() -> None:
    index, _ = build_dense(np.zeros((0, 8), dtype=np.float32))
    ids, scores = search_dense(index, np.ones(8, dtype=np.float32), 5)
    assert len(ids) == len(scores) == 0
