from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import (
    BuildSettings,
    IndexCorruptError,
    IndexNotFoundError,
    ModelMismatchError,
    build_index,
    open_index,
)

from .fakes import CORPUS, FakeEmbedder, build_fake_index


def _live(path: Path) -> Path:
    return path / (path / "CURRENT").read_text().strip()


@pytest.fixture()
def index_copy(fake_index: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "idx"
    shutil.copytree(fake_index, dst)
    return dst


def test_index_round_trip(fake_index: Path) -> None:
    idx = open_index(fake_index, "fake-embedder")
    assert [d.id for d in idx.docs] == ["000", "001", "002", "003", "004"]
    assert len(idx) == idx.manifest.n_chunks > 5
    for i in range(len(idx)):
        chunk, doc = idx.chunk(i)
        assert idx.text(doc.id)[chunk.start : chunk.end] == chunk.text
    m = json.loads((_live(fake_index) / "manifest.json").read_text())
    assert m["format_version"] == 2 and m["model"] == "fake-embedder" and m["dim"] == 64
    assert set(m["documents"]) == {"000", "001", "002", "003", "004"}
    assert m["chunking"] == {"target_chars": 150, "max_chars": 400, "overlap_sentences": 1}


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="build one with `citebot index"):
        open_index(tmp_path / "none")


def test_model_mismatch(fake_index: Path) -> None:
    with pytest.raises(
        ModelMismatchError, match="built with model 'fake-embedder' but the configured model is"
    ):
        open_index(fake_index, "all-MiniLM-L6-v2")


def test_truncated_file(index_copy: Path) -> None:
    vec = _live(index_copy) / "vectors.npy"
    vec.write_bytes(vec.read_bytes()[:-100])
    with pytest.raises(
        IndexCorruptError, match=r"index file vectors.npy is \d+ bytes, expected \d+"
    ):
        open_index(index_copy)


def test_missing_file(index_copy: Path) -> None:
    (_live(index_copy) / "dense.faiss").unlink()
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss is missing"):
        open_index(index_copy)


def test_garbled_faiss_file_same_size(index_copy: Path) -> None:
    f = _live(index_copy) / "dense.faiss"
    f.write_bytes(b"\x00" * f.stat().st_size)
    with pytest.raises(IndexCorruptError, match="rebuild with `citebot index`"):
        open_index(index_copy)


def test_vectors_and_metadata_of_different_lengths(index_copy: Path) -> None:
    live = _live(index_copy)
    vectors = np.load(live / "vectors.npy")
    np.save(live / "vectors.npy", vectors[:-1])
    m = json.loads((live / "manifest.json").read_text())
    m["files"]["vectors.npy"] = (live / "vectors.npy").stat().st_size  # sizes agree, counts do not
    (live / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexCorruptError, match=r"inconsistent: vectors\.npy is"):
        open_index(index_copy)


def test_corrupt_manifest(index_copy: Path) -> None:
    (_live(index_copy) / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match=r"manifest of index at .* is unreadable"):
        open_index(index_copy)


def test_future_format_version(index_copy: Path) -> None:
    live = _live(index_copy)
    m = json.loads((live / "manifest.json").read_text())
    m["format_version"] = 99
    (live / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexCorruptError, match="format version 99"):
        open_index(index_copy)


def test_incremental_build_embeds_only_changed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    idx = tmp_path / "idx"
    emb = FakeEmbedder()
    first = build_index(corpus, idx, emb, BuildSettings())
    assert first.embedded_documents == 5
    calls = emb.calls

    again = build_index(corpus, idx, emb, BuildSettings())
    assert (again.embedded_documents, again.reused_documents) == (0, 5)
    assert emb.calls == calls

    (corpus / "001.txt").write_text("A brand new text about the 32nd review.", encoding="utf-8")
    (corpus / "003.txt").unlink()
    (corpus / "new.txt").write_text("Another document entirely.", encoding="utf-8")
    third = build_index(corpus, idx, emb, BuildSettings())
    assert (third.embedded_documents, third.reused_documents, third.removed_documents) == (2, 3, 1)
    assert emb.calls == calls + 2
    loaded = open_index(idx, emb.name)
    assert [d.id for d in loaded.docs] == ["000", "001", "002", "004", "new"]
    for i in range(len(loaded)):
        chunk, doc = loaded.chunk(i)
        assert chunk.doc_id == doc.id
    # Reused vectors still belong to their passages: same as a fresh build.
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, FakeEmbedder(), BuildSettings())
    assert np.allclose(open_index(fresh).vectors, loaded.vectors)


def test_failed_build_keeps_old_index(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    build_fake_index(idx)
    before = (idx / "CURRENT").read_text()

    class Exploding(FakeEmbedder):
        def embed(self, texts, progress=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("New text.", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        build_index(corpus, idx, Exploding(), BuildSettings())
    assert (idx / "CURRENT").read_text() == before
    assert len(open_index(idx).docs) == 5
    assert not [p for p in idx.iterdir() if p.name.startswith(".gen-")]


def test_old_generations_are_removed(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    build_fake_index(idx)
    build_fake_index(idx, embedder=FakeEmbedder(dim=32))
    gens = [p for p in idx.iterdir() if p.is_dir()]
    assert len(gens) == 1
    assert open_index(idx).manifest.dim == 32
