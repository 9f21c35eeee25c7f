from __future__ import annotations

from pathlib import Path

import pytest

from index.cleaning import clean_text

from .fakes import CORPUS


def seed(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8")


# Teasers of other stories, blog footer and stray furniture in the seed documents.
FURNITURE = [
    ("004", "MOST VIEWED"),
    ("004", "Government hits back at threats to pull EBA"),
    ("004", "EU parliament’s 13-point vote"),
    ("004", "Chinese influx pushing locals"),
    ("004", "Sar Kheng: Sokha requested security"),
    ("004", "Trapaing Phlong"),
    ("004", "Logo of Phnom Penh Post"),
    ("002", "About Joakim Persson"),
    ("002", "Freelance business and lifestyle photojournalist"),
    ("002", "View all posts by"),
    ("002", "Leave a Reply"),
    ("002", "Your email address will not be published"),
]


@pytest.mark.parametrize(("doc", "furniture"), FURNITURE)
def test_seed_furniture_is_removed(doc: str, furniture: str) -> None:
    assert furniture in seed(doc)
    assert furniture not in clean_text(seed(doc))


def test_stray_counter_is_removed() -> None:
    cleaned = clean_text(seed("003"))
    assert cleaned.startswith("What we do")
    assert "348" not in cleaned


@pytest.mark.parametrize(
    ("doc", "kept"),
    [
        ("004", "In June, Cambodia accepted 163 of the 205 recommendations"),
        ("004", "If we [the civil societies] do not advocate for the UPR, no one else will.”"),
        (
            "002",
            "CCHR is not influenced in any way by former staff members who have entered politics.”",
        ),
        ("003", "OHCHR in Cambodia maintains a head office in Phnom Penh"),
        ("000", "will require strong political will."),
    ],
)
def test_article_text_is_kept_verbatim(doc: str, kept: str) -> None:
    assert kept in clean_text(seed(doc))


def test_repeated_headline_and_caption_kept_once() -> None:
    cleaned = clean_text(seed("004"))
    assert cleaned.count("NGOs told to up advocacy") == 1
    assert cleaned.count("A UN human rights monitor talks") == 1


def test_marker_early_in_page_drops_only_the_marker() -> None:
    raw = "Related\n\n" + "A long article sentence about parks. " * 20 + "\n\nThe end of it."
    cleaned = clean_text(raw)
    assert not cleaned.startswith("Related")
    assert cleaned.endswith("The end of it.")


def test_every_seed_document_keeps_most_of_its_text(tmp_path: Path) -> None:
    for name in ("000", "001", "002", "003"):
        raw = seed(name)
        assert len(clean_text(raw)) > 0.9 * len(raw.strip())
