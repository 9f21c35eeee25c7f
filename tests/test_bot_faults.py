"""Faults injected by the fake Bot API, Telegram's limits, and a burst of questions."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Answer, Chunk, DocInfo, Hit, Quote, Retriever

from .bot_harness import SpyRetriever, bot_settings, running_bot
from .fake_bot_api import MESSAGE_LIMIT, FakeBotApi, Fault, utf16_len

QUESTION = "Who is Keo Remy?"


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotApi]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with FakeBotApi() as server:
        yield server


@pytest.mark.parametrize(
    "fault",
    [
        Fault.too_many_requests(1),
        Fault.server_error(500),
        Fault.garbage(502),
        Fault.garbage(200),
        Fault(drop=True),
    ],
    ids=["429", "500", "502-garbage", "200-garbage", "dropped"],
)
async def test_send_faults_are_retried_and_the_answer_arrives_once(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, fault: Fault
) -> None:
    api.fail("sendMessage", fault)
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        reply = await bot.ask(42, QUESTION)
        again = await bot.ask(43, QUESTION)
    assert reply.html.startswith("<blockquote>") and again.html.startswith("<blockquote>")
    assert len(api.replies(42)) == 1
    sends = api.calls("sendMessage")
    assert len(sends) == 3  # the failed attempt, its retry, the second question
    if fault.retry_after:
        assert sends[1].at - sends[0].at >= fault.retry_after  # retry_after honoured


async def test_send_timeout_is_retried(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    api.fail("sendMessage", Fault.timeout(1.0))
    async with running_bot(
        api, bot_settings(api, tmp_path), fake_retriever, read_timeout=0.3
    ) as bot:
        reply = await bot.ask(42, QUESTION)
    assert reply.html.startswith("<blockquote>")
    assert len(api.replies(42)) == 1


async def test_blocked_user_is_dropped_quietly(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    api.block(42)
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        api.message(42, QUESTION)
        other = await bot.ask(43, QUESTION)
        await bot.until(
            lambda s: any(r[0] == "sendMessage" and "blocked" in r[1] for r in s.refused)
        )
    assert other.html.startswith("<blockquote>")
    assert len(api.calls("sendMessage")) == 2  # one refused, no retries, no apology
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_html_refused_is_resent_as_plain_text(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    api.fail("sendMessage", Fault.parse_error())
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        reply = await bot.ask(42, QUESTION)
    assert reply.parse_mode is None
    assert reply.text.startswith("Keo Remy, president of") and "<" not in reply.text
    assert reply.buttons()  # the buttons survive the fallback


@pytest.mark.parametrize(
    "fault",
    [Fault.server_error(500), Fault.garbage(200), Fault.too_many_requests(1), Fault(drop=True)],
    ids=["500", "garbage", "429", "dropped"],
)
async def test_polling_survives_get_updates_faults(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, fault: Fault
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        await bot.until(lambda s: s.calls)
        api.fail("getUpdates", fault)
        reply = await bot.ask(42, QUESTION, timeout=15)
    assert reply.html.startswith("<blockquote>")


async def test_persistent_failure_reaches_the_error_handler_and_polling_goes_on(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    spy = SpyRetriever(fake_retriever, fail_on="explode")
    async with running_bot(api, bot_settings(api, tmp_path), spy) as bot:
        api.message(42, "please explode")
        apology = await bot.until(lambda s: next((m for m in s.sent if m.chat_id == 42), None))
        api.fail("sendMessage", Fault.server_error(500), times=4)  # every attempt fails
        api.message(43, QUESTION)
        second_apology = await bot.until(
            lambda s: [m for m in s.sent if m.chat_id == 43 and m.text.startswith("Sorry")]
        )
        after = await bot.ask(44, QUESTION)
    assert apology.text.startswith("Sorry") and second_apology
    assert after.html.startswith("<blockquote>")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "bot.handlers"]
    assert len(errors) == 2 and all(r.exc_info for r in errors)
    assert "Traceback" not in apology.text and "boom" not in apology.text


def _huge_answer(fake_retriever: Retriever) -> Answer:
    doc = DocInfo(
        id="big/doc <&>",
        title="A <title> & more " * 30,
        source="Pub & Co " * 20,
        url="https://example.org/?q=" + "a&b<c>" * 1000,  # too long to link
    )
    nasty = "Tom & Jerry <b>bold</b> &amp; 5 < 6 > 4 — 😀 * _ " * 300  # ~15k characters
    hits = tuple(
        Hit(Chunk(doc.id, 0, len(nasty), nasty, None), doc, 1.0 - i / 100) for i in range(20)
    )
    return Answer("q", Quote(nasty, doc.id, 0, len(nasty), 0), hits)


async def test_long_answers_are_split_within_4096_and_never_inside_a_tag(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    spy = SpyRetriever(fake_retriever, fixed=_huge_answer(fake_retriever))
    async with running_bot(api, bot_settings(api, tmp_path), spy) as bot:
        _, msg = api.message(42, "anything")
        last = await bot.until(lambda s: next((m for m in s.sent if m.buttons()), None))
    sent = api.replies(42, msg["message_id"])
    assert len(sent) >= 2 and sent[-1] is last
    assert not api.state.refused  # the fake validated every message like Telegram
    assert all(m.parse_mode == "HTML" for m in sent)
    assert all(utf16_len(m.text) <= MESSAGE_LIMIT for m in sent)
    assert sent[0].html.startswith("<blockquote>Tom &amp; Jerry &lt;b&gt;bold")


async def test_burst_of_200_questions_from_50_users_all_answered(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    questions = [QUESTION, "What is the capital of France?", "What did CCHR ask?", "UPR?"]
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        pushed = []
        for i in range(200):
            user = 1000 + i % 50
            _, msg = api.message(user, questions[i // 50])
            pushed.append((user, msg["message_id"]))
        await bot.until(lambda s: len(s.sent) >= 200, timeout=60)
    for user, message_id in pushed:
        assert len(api.replies(user, message_id)) == 1, (user, message_id)
    assert len(api.state.sent) == 200


async def test_inline_answer_is_retried_after_429(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    api.fail("answerInlineQuery", Fault.too_many_requests(1))
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        api.inline(8, QUESTION)
        answers = await bot.until(lambda s: s.inline_answers)
    assert answers[0]["results"] and len(api.calls("answerInlineQuery")) == 2
