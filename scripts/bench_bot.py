"""Benchmark: time from update to reply under a burst of questions to the real bot.

Starts the fake Bot API server of the tests on 127.0.0.1 in this process, runs the real bot
(``run_bot``: long polling over real HTTP) in a child process against it, pushes a burst of
questions (default 200 from 50 users, all at once) and measures, for each question, the time
from the moment its update was queued on the server to the moment the bot's reply reached
the server (both clocks are the server's). Prints p50 / p95 / max and the throughput. Not part
of the test suite.

By default the index is the seed corpus built with the tests' fake embedder (retrieval takes
about a millisecond, so the figures are the bot's own overhead); ``--index DIR`` uses a real
index with the sentence-transformers model it was built with.

    .venv/bin/python scripts/bench_bot.py [--questions 200] [--users 50] [--index var/index]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_bot_api import FakeBotApi  # noqa: E402
from tests.fakes import build_fake_index  # noqa: E402

QUESTIONS = [
    "Who is Keo Remy?",
    "What did the CHRC ask the European Union to consider?",
    "How many recommendations did Cambodia accept at the UPR?",
    "When did Hun Sen announce that CCHR would not be shut down?",
    "What is the capital of France?",
    "Which rights group does Am Sam Ath work for?",
    "Who told The Post about the workshops?",
    "What does the OHCHR office in Cambodia do?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def burst(api: FakeBotApi, questions: int, users: int) -> dict[str, float]:
    """Push the burst and wait for every reply; latencies in milliseconds."""
    asked: dict[tuple[int, int], int] = {}
    started = time.perf_counter()
    for i in range(questions):
        user = 10_000 + i % users
        uid, msg = api.message(user, QUESTIONS[i % len(QUESTIONS)])
        asked[(user, msg["message_id"])] = uid
    api.wait_for(
        lambda s: sum(1 for m in s.sent if (m.chat_id, m.reply_to) in asked) >= questions,
        timeout=600,
    )
    wall = time.perf_counter() - started
    latencies = [
        (api.replies(user, mid)[-1].at - api.state.pushed_at[uid]) * 1000
        for (user, mid), uid in asked.items()
    ]
    return {
        "questions": questions,
        "users": users,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies),
        "mean_ms": statistics.fmean(latencies),
        "wall_s": wall,
        "questions_per_s": questions / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--index", type=Path, help="a real index (default: fake-embedder seed index)"
    )
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as api:
        work = Path(tmp)
        extra: list[str] = []
        if args.index is None:
            index = work / "index"
            build_fake_index(index)
            kind = "fake embedder"
        else:
            from index.store import read_manifest

            index = args.index
            kind = read_manifest(index)[1].model
            extra = ["0", kind]
        child = subprocess.Popen(
            [
                sys.executable,
                *os.environ.get("BENCH_PY_ARGS", "").split(),
                "-m",
                "tests.bot_process",
                api.base_url,
                str(index),
                str(work),
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            api.wait_for(lambda s: any(c.method == "getUpdates" for c in s.calls), timeout=120)
            warm = api.message(1, "Who is Keo Remy?")[1]["message_id"]
            api.wait_reply(1, warm, timeout=60)
            result = burst(api, args.questions, args.users)
        finally:
            child.terminate()
            child.wait(timeout=30)
    print(f"index: {kind}")
    for key, value in result.items():
        print(f"{key}: {value:.1f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
