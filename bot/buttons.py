"""Inline buttons: signed callback data of at most 64 bytes, and the answers they point to.

Telegram gives a button at most 64 bytes of ``callback_data`` and hands back whatever a client
sends, so every press is checked: the data must parse, carry a valid HMAC made with this
process's secret, and point to an answer still held in memory. Anything else (a forged
button, one from before a restart, one whose answer was evicted) decodes to ``None`` and the
user is told the button has expired.

Format: ``<kind>|<key>|<arg>|<mac>``, e.g. ``m|Xy3k9QaB|5|q1Fz0aK8d2M``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from index import Quote

CALLBACK_LIMIT = 64  # Telegram's maximum size of callback_data, in bytes
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_ARG = re.compile(r"^[a-z0-9]{1,8}$")


class Kind(Enum):
    """What a button does."""

    MORE = "m"  # next passages; arg: how many were shown already
    PARAGRAPH = "p"  # the full paragraph around the quote; arg: "0"
    VOTE = "f"  # feedback; arg: "u" (👍) or "d" (👎)
    SOURCES = "s"  # a page of /sources; key: "-", arg: page number


@dataclass(frozen=True, slots=True)
class Press:
    """A decoded, authenticated button press."""

    kind: Kind
    key: str
    arg: str


class ButtonCodec:
    """Encodes and verifies callback data with an HMAC keyed by a per-process secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()[:8]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, kind: Kind, key: str, arg: str) -> str:
        """Callback data for a button.

        Raises:
            ValueError: ``key`` or ``arg`` has characters or a length the format does not allow.
        """
        if not _KEY.match(key) and key != "-":
            raise ValueError(f"bad button key {key!r}")
        if not _ARG.match(arg):
            raise ValueError(f"bad button argument {arg!r}")
        payload = f"{kind.value}|{key}|{arg}"
        data = f"{payload}|{self._mac(payload)}"
        assert len(data.encode()) <= CALLBACK_LIMIT
        return data

    def decode(self, data: str | None) -> Press | None:
        """The press ``data`` stands for, or None when it is malformed or forged."""
        if not data or len(data.encode("utf-8", "replace")) > CALLBACK_LIMIT:
            return None
        parts = data.split("|")
        if len(parts) != 4:
            return None
        kind_s, key, arg, mac = parts
        if not hmac.compare_digest(mac, self._mac(f"{kind_s}|{key}|{arg}")):
            return None
        try:
            kind = Kind(kind_s)
        except ValueError:
            return None
        return Press(kind, key, arg)


@dataclass(slots=True)
class AnswerRecord:
    """What the buttons under one answer need: the question and where its quote came from.

    ``passages`` are the (doc id, start) of the passages the answer showed, in its order (the
    quote's passage first), so "More passages" continues the search results without them.
    """

    question: str
    chat_id: int
    found: bool
    quote: Quote | None
    shown: int
    passages: tuple[tuple[str, int], ...] = field(default_factory=tuple)


class AnswerStore:
    """The most recent answers, by a short random key; the oldest are forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._items: OrderedDict[str, AnswerRecord] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, record: AnswerRecord) -> str:
        """Keep ``record`` and return its key (8 URL-safe characters)."""
        key = secrets.token_urlsafe(6)
        with self._lock:
            self._items[key] = record
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> AnswerRecord | None:
        """The record for ``key``, or None when it was never made or has been evicted."""
        with self._lock:
            record = self._items.get(key)
            if record is not None:
                self._items.move_to_end(key)
            return record

    def __len__(self) -> int:
        return len(self._items)
