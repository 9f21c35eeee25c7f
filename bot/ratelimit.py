"""A per-user sliding-window rate limit, so one chatty user cannot starve the others."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    """What to do with a request."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the user once per window
    DROP = "drop"  # over the limit and already told: stay quiet


class RateLimiter:
    """At most ``per_minute`` requests per user in any 60-second window."""

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, window: float = 60.0
    ) -> None:
        self._limit = per_minute
        self._window = window
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._lock = threading.Lock()

    def check(self, user_id: int) -> Verdict:
        """Count one request by ``user_id`` if allowed, and say whether it is."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(user_id, deque())
            while hits and now - hits[0] >= self._window:
                hits.popleft()
            if len(hits) < self._limit:
                hits.append(now)
                self._warned.pop(user_id, None)
                return Verdict.ALLOW
            warned = self._warned.get(user_id)
            if warned is not None and now - warned < self._window:
                return Verdict.DROP
            self._warned[user_id] = now
            return Verdict.WARN

    def retry_in(self, user_id: int) -> float:
        """Seconds until ``user_id`` may ask again (0 when they may now)."""
        with self._lock:
            hits = self._hits.get(user_id)
            if not hits or len(hits) < self._limit:
                return 0.0
            return max(0.0, self._window - (self._clock() - hits[0]))
