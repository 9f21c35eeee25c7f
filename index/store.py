"""The index on disk: a directory of plain, inspectable files, replaced atomically.

Layout of an index directory::

    CURRENT              name of the live generation folder (replaced with os.replace)
    gen-<stamp>/
      manifest.json      format version, model, dimension, chunking, per-document hashes,
                         file sizes (a truncated file is caught before it is read)
      docs.jsonl         one DocInfo per document, in document order
      texts.bin          the cleaned texts, UTF-8, back to back; text_offsets.npy indexes it
      chunks.npy         int64 rows (doc index, start, end, page or -1), one per passage
      vectors.npy        float32 unit vectors, one per passage (kept for incremental builds)
      dense.faiss        the FAISS search index over those vectors
      lexical/           BM25 score matrix (see lexical.py)

A build writes a new generation folder completely, then points ``CURRENT`` at it: a crash at
any moment leaves either the old index or the new one, never half of one. Readers that hold
an old generation open keep working; old generations are removed after the switch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .chunking import ChunkSettings
from .dense import load_dense, save_dense
from .documents import Chunk, DocInfo
from .errors import IndexCorruptError, IndexNotFoundError, ModelMismatchError
from .lexical import LexicalIndex

FORMAT_VERSION = 2  # 2: lexical champion lists
_CURRENT = "CURRENT"
_REBUILD = "rebuild it with `citebot index`"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an index was built from and with."""

    model: str
    dim: int
    chunking: ChunkSettings
    passage_title: bool
    documents: dict[str, str]  # document id -> content hash
    n_chunks: int
    dense: dict[str, Any] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    created: str = ""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, where: Path) -> Manifest:
        try:
            data = json.loads(text)
            version = int(data.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise IndexCorruptError(
                    f"index at {where} has format version {version}, this citebot reads "
                    f"version {FORMAT_VERSION}; {_REBUILD}"
                )
            return cls(
                model=str(data["model"]),
                dim=int(data["dim"]),
                chunking=ChunkSettings(**data["chunking"]),
                passage_title=bool(data["passage_title"]),
                documents={str(k): str(v) for k, v in data["documents"].items()},
                n_chunks=int(data["n_chunks"]),
                dense=dict(data.get("dense", {})),
                files={str(k): int(v) for k, v in data.get("files", {}).items()},
                created=str(data.get("created", "")),
            )
        except IndexCorruptError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorruptError(
                f"manifest of index at {where} is unreadable ({exc}); {_REBUILD}"
            ) from exc


@dataclass(frozen=True, slots=True)
class IndexContent:
    """Everything a build hands to ``write_index``."""

    docs: Sequence[DocInfo]
    texts: Sequence[str]
    chunks: npt.NDArray[np.int64]  # (n, 4): doc index, start, end, page (-1 = none)
    vectors: npt.NDArray[np.float32]
    lexical: LexicalIndex
    dense: Any


class StoredIndex:
    """A loaded, read-only index generation."""

    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.folder = folder
        self.manifest = manifest
        self.docs = _read_docs(folder / "docs.jsonl")
        self._doc_index = {d.id: i for i, d in enumerate(self.docs)}
        self._offsets = np.load(folder / "text_offsets.npy")
        self._texts = (
            np.memmap(folder / "texts.bin", dtype=np.uint8, mode="r")
            if self._offsets[-1]
            else np.zeros(0, np.uint8)
        )
        self.chunks: npt.NDArray[np.int64] = np.load(folder / "chunks.npy", mmap_mode="r")
        self.vectors: npt.NDArray[np.float32] = np.load(folder / "vectors.npy", mmap_mode="r")
        self.lexical = LexicalIndex.load(folder / "lexical")
        self.dense = load_dense(folder / "dense.faiss", manifest.dense)
        self._check()

    def _check(self) -> None:
        m = self.manifest
        n = m.n_chunks
        problems = []
        if len(self.docs) != len(m.documents) or len(self._offsets) != len(self.docs) + 1:
            problems.append("document list and texts differ in length")
        if int(self._offsets[-1]) != len(self._texts):
            problems.append("texts.bin is truncated")
        if self.chunks.shape != (n, 4):
            problems.append(f"{self.chunks.shape[0]} passages in chunks.npy, manifest says {n}")
        if self.vectors.shape != (n, m.dim):
            problems.append(f"vectors.npy is {self.vectors.shape}, expected ({n}, {m.dim})")
        if int(self.dense.ntotal) != n:
            problems.append(f"dense.faiss holds {self.dense.ntotal} vectors for {n} passages")
        if self.lexical.num_docs != n:
            problems.append(f"lexical index covers {self.lexical.num_docs} passages, not {n}")
        if n and (
            int(self.chunks[:, 0].max()) >= len(self.docs) or int(self.chunks[:, 0].min()) < 0
        ):
            problems.append("passages point at documents that do not exist")
        if problems:
            raise IndexCorruptError(
                f"index at {self.folder} is inconsistent: {'; '.join(problems)}; {_REBUILD}"
            )

    def __len__(self) -> int:
        return self.manifest.n_chunks

    def document(self, doc_id: str) -> DocInfo | None:
        """Metadata of a document by id, or None when the index does not hold it."""
        i = self._doc_index.get(doc_id)
        return None if i is None else self.docs[i]

    def text(self, doc_id: str) -> str:
        """The cleaned text of a document (empty for an unknown id)."""
        i = self._doc_index.get(doc_id)
        return "" if i is None else self._text_at(i)

    def _text_at(self, i: int) -> str:
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        return bytes(self._texts[lo:hi]).decode("utf-8")

    def chunk(self, i: int) -> tuple[Chunk, DocInfo]:
        """Passage ``i`` and its document's metadata."""
        doc_i, start, end, page = (int(x) for x in self.chunks[i])
        doc = self.docs[doc_i]
        text = self._text_at(doc_i)[start:end]
        return Chunk(doc.id, start, end, text, None if page < 0 else page), doc


def _read_docs(path: Path) -> list[DocInfo]:
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            docs.append(DocInfo(**json.loads(line)))
    return docs


def canonical_model(name: str) -> str:
    """The model name as recorded in manifests (aliases of the bundled model unified)."""
    if name.lower() in {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}:
        return "sentence-transformers/all-MiniLM-L6-v2"
    return name


def read_manifest(root: Path) -> tuple[Path, Manifest]:
    """Find the live generation of the index at ``root`` and read its manifest."""
    current = root / _CURRENT
    if not current.is_file():
        raise IndexNotFoundError(
            f"no index at {root}; build one with `citebot index --index {root}`"
        )
    name = current.read_text(encoding="utf-8").strip()
    folder = root / name
    if not name or "/" in name or not (folder / "manifest.json").is_file():
        raise IndexCorruptError(
            f"index at {root} points at a missing generation {name!r}; {_REBUILD}"
        )
    manifest = Manifest.from_json((folder / "manifest.json").read_text(encoding="utf-8"), root)
    for fname, size in manifest.files.items():
        path = folder / fname
        actual = path.stat().st_size if path.exists() else -1
        if actual != size:
            state = "missing" if actual < 0 else f"{actual} bytes, expected {size}"
            raise IndexCorruptError(f"index file {fname} is {state}; {_REBUILD}")
    return folder, manifest


def open_index(root: Path, model: str | None = None) -> StoredIndex:
    """Load the index at ``root``, checking it was built with ``model``.

    Raises:
        IndexNotFoundError: nothing was ever built there.
        IndexCorruptError: files missing, truncated or inconsistent.
        ModelMismatchError: built with another embedding model than ``model``.
    """
    folder, manifest = read_manifest(root)
    if model is not None and canonical_model(model) != manifest.model:
        raise ModelMismatchError(
            f"index at {root} was built with model {manifest.model!r} but the configured model "
            f"is {canonical_model(model)!r}; rebuild with `citebot index` or set "
            f"CITEBOT_MODEL={manifest.model}"
        )
    try:
        return StoredIndex(folder, manifest)
    except (OSError, ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"index at {root} is unreadable ({exc}); {_REBUILD}") from exc


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock: two builds never write the same index at once."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexCorruptError(
                f"another `citebot index` is writing {root}; wait for it to finish"
            ) from exc
        yield


def write_index(root: Path, content: IndexContent, manifest: Manifest) -> Path:
    """Write a new generation under ``root`` and make it the live one, atomically.

    Call under ``write_lock(root)``. Returns the new generation's folder.
    """
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    tmp = root / f".gen-{stamp}.tmp"
    final = root / f"gen-{stamp}"
    tmp.mkdir()
    try:
        with (tmp / "docs.jsonl").open("w", encoding="utf-8") as fh:
            for doc in content.docs:
                fh.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
        blobs = [t.encode("utf-8") for t in content.texts]
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(b) for b in blobs])
        np.save(tmp / "text_offsets.npy", offsets)
        with (tmp / "texts.bin").open("wb") as fb:
            for b in blobs:
                fb.write(b)
        np.save(tmp / "chunks.npy", np.ascontiguousarray(content.chunks, dtype=np.int64))
        np.save(tmp / "vectors.npy", np.ascontiguousarray(content.vectors, dtype=np.float32))
        save_dense(content.dense, tmp / "dense.faiss")
        content.lexical.save(tmp / "lexical")
        files = {
            p.relative_to(tmp).as_posix(): p.stat().st_size
            for p in sorted(tmp.rglob("*"))
            if p.is_file()
        }
        final_manifest = replace(
            manifest, files=files, created=time.strftime("%Y-%m-%dT%H:%M:%S%z")
        )
        (tmp / "manifest.json").write_text(final_manifest.to_json(), encoding="utf-8")
        _fsync_tree(tmp)
        os.rename(tmp, final)
        pointer = root / f".{_CURRENT}.tmp"
        pointer.write_text(final.name + "\n", encoding="utf-8")
        _fsync_file(pointer)
        os.replace(pointer, root / _CURRENT)
        _fsync_file(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in root.iterdir():
        if old != final and old.is_dir() and old.name.startswith(("gen-", ".gen-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            _fsync_file(p)
    _fsync_file(folder)
