"""``run_bot`` in a real process: SIGTERM finishes the answer in flight, then exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .fake_bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_finishes_the_answer_in_flight_and_exits(fake_index: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1"}
    with FakeBotApi() as api:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bot_process",
                api.base_url,
                str(fake_index),
                str(tmp_path),
                "1.5",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api.wait_for(lambda s: any(c.method == "getUpdates" for c in s.calls), timeout=30)
            _, msg = api.message(42, "Who is Keo Remy?")
            _wait((tmp_path / "asking").exists, 10, "the question to start")
            child.send_signal(signal.SIGTERM)
            _, log = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        replies = api.replies(42, msg["message_id"])
    assert child.returncode == 0, log
    assert len(replies) == 1 and replies[0].html.startswith("<blockquote>Keo Remy")
    assert TOKEN not in log
