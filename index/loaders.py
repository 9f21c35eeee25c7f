"""Turn files into cleaned ``Document`` objects: one small function per format.

Supported: ``.txt``, ``.md`` (YAML front matter), ``.html``/``.htm`` (main text and metadata
via trafilatura), ``.pdf`` (text per page, page numbers kept) and ``.jsonl`` (one document a
line: ``id``, ``text``, optional ``title``, ``url``, ``date``, ``source``, ``author``).
Any file can carry a sidecar ``NAME.meta.yaml`` with the same metadata keys; its values win.
A file that cannot be loaded raises ``DocumentError`` with the reason, and the corpus loader
skips it and reports it, so one bad file never stops an index build.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .cleaning import clean_text
from .documents import Document
from .errors import CorpusError, DocumentError

META_SUFFIX = ".meta.yaml"
_META_KEYS = ("title", "source", "url", "date", "author")
_ALIASES = {"publisher": "source", "link": "url", "published": "date", "sitename": "source"}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out of the index, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class CorpusScan:
    """Everything found in a corpus folder."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]


def load_corpus(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusScan:
    """Load every supported file under ``root`` (recursively, hidden files ignored).

    Raises:
        CorpusError: ``root`` is missing, not a folder, or yields no document at all.
    """
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist; create it or pass --corpus DIR")
    if not root.is_dir():
        raise CorpusError(f"corpus path {root} is not a folder; pass --corpus DIR")
    docs: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for path in sorted(_walk(root)):
        rel = path.relative_to(root).as_posix()
        try:
            for doc in load_file(path, root, max_bytes):
                if doc.id in docs:
                    skipped.append(Skipped(rel, f"duplicate document id {doc.id!r}"))
                    continue
                docs[doc.id] = doc
        except DocumentError as exc:
            skipped.append(Skipped(rel, str(exc)))
    if not docs:
        why = f" ({len(skipped)} file(s) skipped: {skipped[0].reason})" if skipped else ""
        raise CorpusError(
            f"no documents found in {root}{why}; add .txt, .md, .html, .pdf or .jsonl files"
        )
    return CorpusScan(tuple(docs.values()), tuple(skipped))


def _walk(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel_parts):
            continue
        if path.is_file() and not path.name.endswith(META_SUFFIX):
            yield path


def load_file(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Load one file into documents (several for ``.jsonl``).

    Raises:
        DocumentError: unsupported type, too large, binary, undecodable, or empty after cleaning.
    """
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        supported = ", ".join(sorted(_LOADERS))
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'!r} (supported: {supported})"
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
            "(raise CITEBOT_MAX_FILE_MB to index it)"
        )
    rel = path.relative_to(root)
    doc_id = rel.with_suffix("").as_posix()
    meta = _sidecar(path)
    return loader(path, doc_id, rel.as_posix(), meta)


def _sidecar(path: Path) -> dict[str, str]:
    side = path.with_name(path.stem + META_SUFFIX)
    if not side.exists():
        return {}
    try:
        data = yaml.safe_load(side.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"metadata file {side.name} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentError(f"metadata file {side.name} must be a mapping of key: value")
    return _metadata(data)


def _metadata(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        key = _ALIASES.get(str(key).lower(), str(key).lower())
        if key in _META_KEYS and value not in (None, ""):
            out[key] = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
    return out


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise DocumentError("looks like a binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from exc


def _make(
    doc_id: str,
    rel: str,
    raw: str,
    meta: dict[str, str],
    *,
    clean: bool = True,
    pages: tuple[tuple[int, int], ...] = (),
) -> Document:
    text = clean_text(raw) if clean else raw
    if not text:
        raise DocumentError("no text left after cleaning (empty file or only page furniture)")
    return Document(
        id=doc_id,
        text=text,
        title=meta.get("title") or _guess_title(text) or doc_id,
        source=meta.get("source"),
        url=meta.get("url"),
        date=meta.get("date"),
        author=meta.get("author"),
        pages=pages,
        path=rel,
    )


def _guess_title(text: str) -> str | None:
    """Use the first line as the title when it reads like a headline."""
    first = text.split("\n", 1)[0].strip()
    if 0 < len(first) <= 120 and not first.endswith((".", ",", ";")) and "\n" in text:
        return first
    return None


def load_txt(path: Path, doc_id: str, rel: str, meta: dict[str, str]) -> list[Document]:
    return [_make(doc_id, rel, _read_text(path), meta)]


def load_markdown(path: Path, doc_id: str, rel: str, meta: dict[str, str]) -> list[Document]:
    text = _read_text(path)
    front: dict[str, str] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end == -1:
            raise DocumentError("front matter starts with '---' but has no closing '---' line")
        try:
            data = yaml.safe_load(text[4:end])
        except yaml.YAMLError as exc:
            raise DocumentError(f"front matter is not valid YAML: {exc}") from exc
        if isinstance(data, dict):
            front = _metadata(data)
        text = text[end + 4 :].split("\n", 1)[1] if "\n" in text[end + 4 :] else ""
    return [_make(doc_id, rel, text, {**front, **meta})]


def load_html(path: Path, doc_id: str, rel: str, meta: dict[str, str]) -> list[Document]:
    import trafilatura  # heavy import: only when a corpus has HTML

    html = _read_text(path)
    extracted = trafilatura.extract(
        html, output_format="json", with_metadata=True, include_comments=False, favor_precision=True
    )
    if not extracted:
        raise DocumentError("no main text found in the HTML page")
    data = json.loads(extracted)
    text = "\n\n".join(line for line in (data.get("text") or "").split("\n") if line.strip())
    found = _metadata(
        {k: data.get(k) for k in ("title", "author", "date")}
        | {"url": data.get("source"), "source": data.get("sitename") or data.get("hostname")}
    )
    return [_make(doc_id, rel, text, {**found, **meta})]


def load_pdf(path: Path, doc_id: str, rel: str, meta: dict[str, str]) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, OSError, KeyError) as exc:
        raise DocumentError(f"cannot read PDF: {exc}") from exc
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    offset = 0
    for number, raw in enumerate(pages, start=1):
        page_text = clean_text(raw)
        if not page_text:
            continue
        if parts:
            offset += 2  # the "\n\n" joining pages
        starts.append((offset, number))
        parts.append(page_text)
        offset += len(page_text)
    found = _metadata({"title": info.title, "author": info.author} if info else {})
    # Pages are cleaned one by one, so offsets stay exact and no page is cut on its own.
    text = "\n\n".join(parts)
    return [_make(doc_id, rel, text, {**found, **meta}, clean=False, pages=tuple(starts))]


def load_jsonl(path: Path, doc_id: str, rel: str, meta: dict[str, str]) -> list[Document]:
    docs: list[Document] = []
    text = _read_text(path)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"line {lineno} is not valid JSON: {exc.msg}") from exc
        if (
            not isinstance(record, dict)
            or not record.get("id")
            or not isinstance(record.get("text"), str)
        ):
            raise DocumentError(f'line {lineno} needs an "id" and a string "text"')
        record_meta = {**meta, **_metadata(record)}
        try:
            docs.append(_make(str(record["id"]), f"{rel}:{lineno}", record["text"], record_meta))
        except DocumentError:
            continue  # an empty record is not worth failing the whole file for
    if not docs:
        raise DocumentError("no records with text in this JSON-lines file")
    return docs


_Loader = Callable[[Path, str, str, dict[str, str]], list[Document]]
_LOADERS: dict[str, _Loader] = {
    ".txt": load_txt,
    ".text": load_txt,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".jsonl": load_jsonl,
}
