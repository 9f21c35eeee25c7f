"""The bot's pure parts: Telegram HTML, button codec, rate limit, allow-lists, log redaction."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from bot import telegram_render as tr
from bot.access import is_admin, is_allowed
from bot.buttons import CALLBACK_LIMIT, AnswerRecord, AnswerStore, ButtonCodec, Kind
from bot.config import Settings
from bot.examples import example_question
from bot.feedback import FeedbackLog
from bot.logsafe import REDACTED, RedactToken
from bot.ratelimit import RateLimiter, Verdict
from index import Answer, Chunk, DocInfo, Hit, Quote, Retriever

from .fake_bot_api import ParseError, parse_html, utf16_len

ALPHABET = "ab <>&*_\n\"'😀é—" + "x" * 10


def _random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def _doc(**kw: str) -> DocInfo:
    return DocInfo(
        id=kw.get("id", "d1"),
        title=kw.get("title", "T"),
        source=kw.get("source"),
        url=kw.get("url"),
        date=kw.get("date"),
    )


@pytest.mark.parametrize("seed", range(20))
def test_trim_and_split_respect_the_budget_after_escaping(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_text(rng, rng.randint(0, 12_000))
    limit = rng.randint(10, 4096)
    trimmed = tr.trim(text, limit)
    assert utf16_len(tr.esc(trimmed)) <= limit
    assert trimmed == text or trimmed.endswith("…")
    pieces = tr.split_text(text, limit)
    assert all(utf16_len(tr.esc(p)) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.strip().replace(
        " ", ""
    ).replace("\n", "")


@pytest.mark.parametrize("seed", range(10))
def test_answers_of_any_size_pack_into_valid_messages(seed: int) -> None:
    rng = random.Random(seed)
    doc = _doc(
        title=_random_text(rng, 900),
        source=_random_text(rng, 300),
        url='https://example.org/a?b=1&c=<2>"',
        id=_random_text(rng, 50),
    )
    hits = tuple(
        Hit(Chunk(doc.id, 0, 1, _random_text(rng, rng.randint(1, 6000))), doc, 1.0)
        for _ in range(rng.randint(0, 20))
    )
    quote = Quote(_random_text(rng, rng.randint(1, 9000)), doc.id, 0, 1, 0) if hits else None
    for msg in tr.answer_messages(Answer("q", quote, hits)):
        assert utf16_len(msg) <= tr.MESSAGE_LIMIT
        assert parse_html(msg).strip()  # balanced tags, complete entities


def test_pack_refuses_an_oversized_block() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        tr.pack(["x" * 5000])


def test_answer_layout_escapes_everything_and_links_only_http() -> None:
    doc = _doc(title="<Title & Co>", source="Pub", date="2024-01-02", url="javascript:alert(1)")
    hit = Hit(Chunk("d1", 0, 5, "a < b & c"), doc, 1.0)
    html = tr.answer_messages(Answer("q", Quote("x <y>", "d1", 0, 5, 0), (hit,)))[0]
    assert html.startswith("<blockquote>x &lt;y&gt; [1]</blockquote>")
    assert "[1] <b>&lt;Title &amp; Co&gt; — Pub, 2024-01-02</b> · /source d1" in html
    assert "javascript" not in html
    linked = tr.source_line(1, Hit(hit.chunk, _doc(url='https://x.org/?a=1&b="2"'), 1.0))
    assert '<a href="https://x.org/?a=1&amp;b=&quot;2&quot;">link</a>' in linked
    refusal = tr.answer_messages(Answer("q", None, ()))
    assert refusal == [tr.NOT_FOUND]


def test_plain_text_fallback_strips_tags_and_entities() -> None:
    assert tr.to_plain("<b>a &lt; b</b> &amp; <i>c</i>") == "a < b & c"


def test_fake_parser_rejects_what_telegram_rejects() -> None:
    for bad in ["<b>x", "a < b", "a & b", "<div>x</div>", "<b><i>x</b></i>", "x > y"]:
        with pytest.raises(ParseError):
            parse_html(bad)


def test_sources_page_is_clamped_and_paged() -> None:
    docs = [_doc(id=f"d{i}", title=f"T{i}") for i in range(25)]
    html, pages = tr.sources_page(docs, 99, 10)
    assert pages == 3 and "page 3/3" in html and "d24" in html and "d19" not in html


def test_button_codec_round_trip_and_rejections() -> None:
    codec = ButtonCodec(b"k" * 32)
    data = codec.encode(Kind.MORE, "Ab_-0123", "15")
    assert len(data.encode()) <= CALLBACK_LIMIT
    press = codec.decode(data)
    assert press is not None and press.kind is Kind.MORE and press.arg == "15"
    assert ButtonCodec(b"j" * 32).decode(data) is None  # another process's secret
    assert codec.decode(data.replace("|15|", "|16|")) is None
    for junk in (None, "", "x" * 65, "m|a|b", "q|Ab_-0123|15|" + data.split("|")[3], "ü" * 40):
        assert codec.decode(junk) is None
    with pytest.raises(ValueError):
        codec.encode(Kind.MORE, "k" * 40, "1")
    with pytest.raises(ValueError):
        codec.encode(Kind.VOTE, "key", "|evil")


def test_answer_store_forgets_the_oldest() -> None:
    store = AnswerStore(capacity=2)
    keys = [store.add(AnswerRecord(f"q{i}", 1, True, None, 0)) for i in range(3)]
    assert store.get(keys[0]) is None and store.get(keys[2]) is not None
    assert len(store) == 2


def test_rate_limiter_warns_once_then_drops_then_recovers() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert limiter.check(2) is Verdict.ALLOW
    assert limiter.retry_in(1) == pytest.approx(60.0)
    now[0] = 60.0
    assert limiter.check(1) is Verdict.ALLOW


def test_allow_lists_and_admins() -> None:
    everyone = Settings(_env_file=None)  # type: ignore[call-arg]
    assert is_allowed(everyone, 5, 5) and not is_admin(everyone, 5)
    s = Settings(_env_file=None, allowed_users=(1,), allowed_chats=(-9,), admin_users=(7,))  # type: ignore[call-arg]
    assert is_allowed(s, 1, 1) and is_allowed(s, 1, -3)
    assert is_allowed(s, 2, -9) and not is_allowed(s, 2, 2) and not is_allowed(s, None, None)
    assert is_allowed(s, 7, 7) and is_admin(s, 7) and not is_admin(s, 1)


def test_feedback_log_appends_json_lines(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "sub" / "fb.jsonl")
    log.write("question", user=1, question="é <b>")
    log.write("feedback", user=1, vote="up")
    events = log.read()
    assert [e["event"] for e in events] == ["question", "feedback"]
    assert events[0]["question"] == "é <b>"


def test_feedback_log_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    FeedbackLog(blocker / "fb.jsonl").write("question")
    assert "could not write the feedback log" in caplog.text


def test_redaction_covers_messages_arguments_and_tracebacks() -> None:
    token = "123:SECRET"
    redact = RedactToken(token)
    record = logging.LogRecord("x", logging.INFO, "f", 1, "url %s", (f"/bot{token}/getMe",), None)
    redact.filter(record)
    assert token not in record.getMessage() and REDACTED in record.getMessage()
    try:
        raise RuntimeError(f"failed https://api/bot{token}/send")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, "f", 1, "boom", None, sys.exc_info())
    redact.filter(record)
    assert record.exc_text and token not in record.exc_text


def test_example_question_is_drawn_from_the_corpus_and_answerable(
    fake_retriever: Retriever,
) -> None:
    question = example_question(fake_retriever)
    assert question == "Who is Keo Remy?"
    assert fake_retriever.ask(question).found


def test_webhook_without_tornado_is_a_clear_config_error(
    fake_retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from bot.app import run_bot
    from index import ConfigError

    monkeypatch.setitem(sys.modules, "tornado", None)  # as if not installed
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token="1:x", webhook_url="https://example.org/hook"
    )
    with pytest.raises(ConfigError, match="webhooks"):
        run_bot(settings, fake_retriever)


async def test_reindex_is_claimed_before_its_task_first_runs(fake_retriever: Retriever) -> None:
    from bot.engine import Engine, ReindexBusy

    calls: list[str] = []

    def rebuild(current: Retriever) -> tuple[Retriever, str]:
        calls.append("rebuild")
        return current, "same"

    engine = Engine(fake_retriever, rebuild)
    try:
        job = engine.start_reindex()  # not awaited yet, as when it is only scheduled
        assert engine.rebuilding
        with pytest.raises(ReindexBusy):
            engine.start_reindex()
        result = await job
        assert result.ok and calls == ["rebuild"] and not engine.rebuilding
        assert (await engine.reindex()).ok  # free again
    finally:
        engine.close()


def test_long_urls_are_not_linked_and_never_break_the_limit() -> None:
    doc = _doc(url="https://example.org/" + "a&b" * 3000, id="d1")
    hit = Hit(Chunk("d1", 0, 3, "abc"), doc, 1.0)
    messages = tr.answer_messages(Answer("q", Quote("abc", "d1", 0, 3, 0), (hit,)))
    source = tr.source_message(doc, "opening")
    card = tr.inline_card("abc", hit)
    for html in [*messages, source, card]:
        assert utf16_len(html) <= tr.MESSAGE_LIMIT and parse_html(html)
        assert "href" not in html
    assert "/source d1" in messages[0]  # the document is still reachable


def test_paragraph_around_the_quote_uses_the_offsets_and_caps_huge_paragraphs() -> None:
    text = "Apples are red. The committee met.\n\nPears are green. The committee met.\n"
    second = text.rindex("The committee met.")
    assert tr.paragraph_around(text, second, second + 18) == "Pears are green. The committee met."
    assert tr.paragraph_around(text, 16, 34) == "Apples are red. The committee met."
    words = " ".join(f"w{i}" for i in range(20_000))  # one line of ~130,000 characters
    quote = "w10000 w10001 w10002"
    start = words.index(quote)
    window = tr.paragraph_around(words, start, start + len(quote), limit=1000)
    assert quote in window and len(window) <= 1002
    assert window.startswith("…w") and window.endswith("…")
    huge_quote = tr.paragraph_around(words, 0, 5000, limit=1000)  # the quote is never cut
    assert huge_quote.startswith(words[:5000]) and huge_quote.endswith("…")
