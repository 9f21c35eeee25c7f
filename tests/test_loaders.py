from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import CorpusError, DocumentError, load_corpus
from index.loaders import load_file

from .fakes import CORPUS
from .pdfmaker import make_pdf


def test_seed_corpus_loads_with_sidecar_metadata() -> None:
    scan = load_corpus(CORPUS)
    assert [d.id for d in scan.documents] == ["000", "001", "002", "003", "004"]
    assert scan.skipped == ()
    doc = {d.id: d for d in scan.documents}["004"]
    assert doc.title == "NGOs told to up advocacy"
    assert doc.source == "Phnom Penh Post"
    assert doc.url is None and doc.date is None  # the text supports neither
    assert "MOST VIEWED" not in doc.text


def test_ids_are_relative_paths_without_extension(tmp_path: Path) -> None:
    (tmp_path / "reports" / "2024").mkdir(parents=True)
    (tmp_path / "reports" / "2024" / "x.txt").write_text("A report about things.", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    scan = load_corpus(tmp_path)
    assert [d.id for d in scan.documents] == ["reports/2024/x"]


def test_markdown_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: Parks report\npublisher: City Desk\ndate: 2024-03-05\nurl: https://ex.com/a\n---\n"
        "# Parks\n\nThe council approved 12 new parks.\n",
        encoding="utf-8",
    )
    doc = load_corpus(tmp_path).documents[0]
    assert (doc.title, doc.source, doc.date, doc.url) == (
        "Parks report",
        "City Desk",
        "2024-03-05",
        "https://ex.com/a",
    )
    assert doc.text.startswith("# Parks")


def test_unclosed_front_matter_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: x\nno end\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="no closing '---'"):
        load_file(tmp_path / "a.md", tmp_path)


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Hello</title><meta name='author' content='Jane Doe'>"
        "<meta property='og:url' content='https://ex.com/a'><meta name='date' content='2024-03-05'></head>"
        "<body><nav>Home | About | Contact</nav><article><h1>Big news</h1>"
        "<p>The council approved 12 new parks on Monday, officials said in a long statement.</p>"
        "<p>Another paragraph with more words about the parks and their costs to the budget.</p>"
        "</article><footer>Copyright 2024 Example Media</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    doc = load_corpus(tmp_path).documents[0]
    assert "approved 12 new parks" in doc.text
    assert "Home | About" not in doc.text and "Copyright" not in doc.text
    assert doc.url == "https://ex.com/a" and doc.author == "Jane Doe" and doc.date == "2024-03-05"


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(
        make_pdf(["First page text here.", "Second page says 42 things."], "Report")
    )
    doc = load_corpus(tmp_path).documents[0]
    assert doc.title == "Report"
    off = doc.text.index("42 things")
    assert doc.page_at(off) == 2
    assert doc.page_at(0) == 1


def test_jsonl_one_document_per_line(tmp_path: Path) -> None:
    lines = [
        {
            "id": "a1",
            "text": "Alpha text.",
            "title": "Alpha",
            "url": "https://ex.com/1",
            "date": "2020-01-01",
        },
        {"id": "a2", "text": "Beta text.", "source": "Wire"},
    ]
    (tmp_path / "docs.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    docs = load_corpus(tmp_path).documents
    assert [(d.id, d.title, d.source) for d in docs] == [
        ("a1", "Alpha", None),
        ("a2", "a2", "Wire"),
    ]


def test_jsonl_bad_line_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"id": "a", "text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(DocumentError, match="line 2 is not valid JSON"):
        load_file(tmp_path / "d.jsonl", tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bin.txt", b"\x00\x01\x02binary", "looks like a binary file"),
        (
            "latin.txt",
            "caf\xe9 au lait".encode("latin-1"),
            "not valid UTF-8 (byte 0xe9 at offset 3)",
        ),
        ("empty.txt", b"   \n\n", "no text left after cleaning"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("broken.pdf", b"%PDF-1.4 garbage", "cannot read PDF"),
    ],
)
def test_bad_files_are_skipped_with_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / "good.txt").write_text("A good document.", encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    scan = load_corpus(tmp_path)
    assert [d.id for d in scan.documents] == ["good"]
    assert len(scan.skipped) == 1
    assert scan.skipped[0].path == name
    assert reason in scan.skipped[0].reason


def test_huge_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A good document.", encoding="utf-8")
    (tmp_path / "huge.txt").write_text("word " * 5000, encoding="utf-8")
    scan = load_corpus(tmp_path, max_bytes=10_000)
    assert scan.skipped[0].path == "huge.txt"
    assert "over the 0 MB limit" in scan.skipped[0].reason or "limit" in scan.skipped[0].reason
    assert "CITEBOT_MAX_FILE_MB" in scan.skipped[0].reason


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("From text.", encoding="utf-8")
    (tmp_path / "a.md").write_text("From markdown.", encoding="utf-8")
    scan = load_corpus(tmp_path)
    assert len(scan.documents) == 1
    assert "duplicate document id 'a'" in scan.skipped[0].reason


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no documents found in"):
        load_corpus(tmp_path)


def test_missing_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_bad_sidecar_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "a.meta.yaml").write_text("title: [unclosed", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Other text.", encoding="utf-8")
    scan = load_corpus(tmp_path)
    assert [d.id for d in scan.documents] == ["b"]
    assert "not valid YAML" in scan.skipped[0].reason
