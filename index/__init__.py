"""citebot's engine: documents in, a searchable index on disk, cited answers out.

Nothing here knows about Telegram; ``bot/`` builds on this public surface.
"""

from __future__ import annotations

from .answer import AnswerSettings, compose_answer
from .build import BuildProgress, BuildReport, BuildSettings, build_index
from .chunking import ChunkSettings, chunk_document, sentences
from .documents import Answer, Chunk, DocInfo, Document, Hit, Quote
from .embedder import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from .errors import (
    CitebotError,
    ConfigError,
    CorpusError,
    DocumentError,
    IndexCorruptError,
    IndexNotFoundError,
    ModelLoadError,
    ModelMismatchError,
    QuestionError,
)
from .loaders import CorpusScan, Skipped, load_corpus
from .search import Retriever, SearchSettings
from .store import StoredIndex, open_index

__all__ = [
    "DEFAULT_MODEL",
    "Answer",
    "AnswerSettings",
    "BuildProgress",
    "BuildReport",
    "BuildSettings",
    "Chunk",
    "ChunkSettings",
    "CitebotError",
    "ConfigError",
    "CorpusError",
    "CorpusScan",
    "DocInfo",
    "Document",
    "DocumentError",
    "Embedder",
    "Hit",
    "IndexCorruptError",
    "IndexNotFoundError",
    "ModelLoadError",
    "ModelMismatchError",
    "QuestionError",
    "Quote",
    "Retriever",
    "SearchSettings",
    "SentenceTransformerEmbedder",
    "Skipped",
    "StoredIndex",
    "build_index",
    "chunk_document",
    "compose_answer",
    "load_corpus",
    "open_index",
    "sentences",
]
