from __future__ import annotations

import itertools

import pytest

from index import ChunkSettings, Document, chunk_document, sentences
from index.cleaning import clean_text

from .fakes import CORPUS


def test_sentences_respect_abbreviations_and_quotes() -> None:
    text = "Mr. Kem Sokha founded it in 2002. He left in 2007, said J. Smith. “Yes,” she said. Next"
    spans = [text[s.start : s.end] for s in sentences(text)]
    assert spans == [
        "Mr. Kem Sokha founded it in 2002.",
        "He left in 2007, said J. Smith.",
        "“Yes,” she said.",
        "Next",
    ]


def test_headings_and_list_items_are_their_own_sentences() -> None:
    text = "What we do\nThe office works.\n- First item;\n- Second item.\nA hard\nwrapped line."
    spans = [text[s.start : s.end] for s in sentences(text)]
    assert spans == [
        "What we do",
        "The office works.",
        "- First item;",
        "- Second item.",
        "A hard\nwrapped line.",
    ]


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
@pytest.mark.parametrize("target", [120, 500, 1500])
def test_chunks_are_exact_slices_of_whole_sentences(name: str, target: int) -> None:
    text = clean_text((CORPUS / f"{name}.txt").read_text(encoding="utf-8"))
    doc = Document(id=name, text=text, title=name)
    chunks = chunk_document(doc, ChunkSettings(target, target * 2, 1))
    assert chunks
    starts = {s.start for s in sentences(text)}
    ends = {s.end for s in sentences(text)}
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.start in starts and chunk.end in ends
    # Every sentence is in some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(s for s in starts if chunk.start <= s < chunk.end)
    assert covered == starts


def test_chunk_sizes_follow_settings() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    doc = Document(id="x", text=text, title="x")
    chunks = chunk_document(doc, ChunkSettings(300, 600, 0))
    assert all(len(c.text) <= 600 for c in chunks)
    assert all(len(c.text) >= 300 for c in chunks[:-1])
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_overlap_repeats_one_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(50))
    doc = Document(id="x", text=text, title="x")
    chunks = chunk_document(doc, ChunkSettings(100, 300, 1))
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end


def test_bad_chunk_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="chunk sizes"):
        ChunkSettings(500, 100, 0)
