"""The feedback log: one JSON object per line for every question asked and every 👍/👎.

Only updates that passed the allow-list are recorded, so nothing from chats the bot is not
allowed in is ever written. Writes are serialized by a lock, so lines never interleave.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class FeedbackLog:
    """Appends events to a JSON-lines file, creating its folder on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        """Append one event synchronously; an I/O error is logged, never raised."""
        line = json.dumps(
            {"ts": round(time.time(), 3), "event": event, **fields}, ensure_ascii=False
        )
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        except OSError as exc:
            log.warning("could not write the feedback log %s: %s", self.path, exc)

    async def record(self, event: str, **fields: Any) -> None:
        """``write`` from a coroutine.

        One short append takes microseconds: cheaper on the loop than a hop to a thread,
        which under load costs a GIL hand-over of up to a few milliseconds.
        """
        self.write(event, **fields)

    def read(self) -> list[dict[str, Any]]:
        """Every event recorded so far (for tests and analysis)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
