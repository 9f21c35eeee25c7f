"""``run_bot`` in a real process: polling and webhook mode, and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .fake_bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-Token_for-tests"
HOOK_URL = "https://bot.example.org/citebot-hook"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start(
    api: FakeBotApi, index: Path, work: Path, delay: float, **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bot_process",
            api.base_url,
            str(index),
            str(work),
            str(delay),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", **env},
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(child: subprocess.Popen[str]) -> str:
    """SIGTERM the child and return its log (stderr)."""
    try:
        child.send_signal(signal.SIGTERM)
        _, log = child.communicate(timeout=30)
        return log
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_sigterm_finishes_the_answer_in_flight_and_exits(fake_index: Path, tmp_path: Path) -> None:
    with FakeBotApi() as api:
        child = _start(api, fake_index, tmp_path, 1.5)
        try:
            api.wait_for(lambda s: any(c.method == "getUpdates" for c in s.calls), timeout=30)
            _, msg = api.message(42, "Who is Keo Remy?")
            _wait((tmp_path / "asking").exists, 10, "the question to start")
        finally:
            log = _stop(child)
        replies = api.replies(42, msg["message_id"])
    assert child.returncode == 0, log
    assert len(replies) == 1 and replies[0].html.startswith("<blockquote>Keo Remy")
    assert TOKEN not in log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, update: dict[str, Any], secret: str | None, timeout: float = 30) -> int:
    """POST ``update`` as Telegram would; the HTTP status. Waits for the listener to be up."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(
            url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:  # the listener never came up
                raise
            time.sleep(0.05)


def test_webhook_mode_answers_posted_updates_and_rejects_a_wrong_secret(
    fake_index: Path, tmp_path: Path
) -> None:
    port = _free_port()
    local = f"http://127.0.0.1:{port}/citebot-hook"
    with FakeBotApi() as api:
        child = _start(
            api,
            fake_index,
            tmp_path,
            0.0,
            CITEBOT_WEBHOOK_URL=HOOK_URL,
            CITEBOT_WEBHOOK_LISTEN="127.0.0.1",
            CITEBOT_WEBHOOK_PORT=str(port),
            CITEBOT_WEBHOOK_SECRET=SECRET,
        )
        try:
            hook = api.wait_for(lambda s: s.webhooks, timeout=30)[0]
            forged = {"update_id": 1, "message": api.make_message(7, "Who is Keo Remy?")}
            wrong = _post(local, forged, "not-the-secret")
            missing = _post(local, forged, None)
            real = {"update_id": 2, "message": api.make_message(42, "Who is Keo Remy?")}
            accepted = _post(local, real, SECRET)
            reply = api.wait_reply(42, real["message"]["message_id"], timeout=30)[-1]
        finally:
            log = _stop(child)
        calls = {c.method for c in api.state.calls}
    assert hook["url"] == HOOK_URL and hook["secret_token"] == SECRET
    assert (wrong, missing, accepted) == (403, 403, 200)
    assert reply.html.startswith("<blockquote>Keo Remy")
    assert api.replies(7) == []  # the forged update cost no answer...
    questions = [
        json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()
    ]
    assert [q["user"] for q in questions] == [42]  # ...and no retrieval
    assert "getUpdates" not in calls
    assert child.returncode == 0, log
    assert TOKEN not in log and SECRET not in log
