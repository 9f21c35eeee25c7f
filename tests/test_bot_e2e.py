"""The real bot against the fake Bot API: what users see, feature by feature."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.buttons import CALLBACK_LIMIT, Kind
from bot.logsafe import REDACTED, protect_token
from bot.telegram_render import NOT_FOUND
from index import Retriever
from index.store import open_index

from .bot_harness import SpyRetriever, bot_settings, running_bot
from .fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi, Sent
from .fakes import CORPUS, build_fake_index

GROUP = -100_555


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotApi]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with FakeBotApi() as server:
        yield server


def _all_callback_data(sent: list[Sent]) -> list[str]:
    return [b["callback_data"] for s in sent for b in s.buttons() if "callback_data" in b]


async def test_private_question_gets_quote_sources_and_buttons(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    settings = bot_settings(api, tmp_path)
    async with running_bot(api, settings, fake_retriever) as bot:
        _, msg = api.message(42, "Who is Keo Remy?")
        reply = (await bot.reply(42, msg["message_id"]))[-1]
    assert reply.parse_mode == "HTML"
    assert reply.html.startswith("<blockquote>Keo Remy, president of")
    assert "[1]</blockquote>" in reply.html
    assert "<b>Sources</b>" in reply.html
    assert "[1] <b>CHRC asks EU to consider cooperation on human rights</b> · /source 000" in (
        reply.html
    )
    labels = [b["text"] for b in reply.buttons()]
    assert labels == ["More passages", "Full paragraph", "👍", "👎"]
    assert all(len(d.encode()) <= CALLBACK_LIMIT for d in _all_callback_data(api.state.sent))
    events = [e for e in settings_log(settings.feedback_log) if e["event"] == "question"]
    assert events[0]["question"] == "Who is Keo Remy?"
    assert events[0]["found"] is True and events[0]["user"] == 42


def settings_log(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_unanswerable_question_is_refused_with_closest_passages(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        reply = await bot.ask(42, "What is the capital of France?")
    assert reply.text.startswith(NOT_FOUND)
    assert "<blockquote>" not in reply.html
    assert "Full paragraph" not in [b["text"] for b in reply.buttons()]


async def test_buttons_more_paragraph_and_votes(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    settings = bot_settings(api, tmp_path)
    async with running_bot(api, settings, fake_retriever) as bot:
        answer = await bot.ask(42, "Who is Keo Remy?")
        api.press(42, answer, answer.button("More passages")["callback_data"])
        more = (await bot.reply(42, answer.message_id, n=1))[-1]
        assert more.html.startswith("[6] <b>")
        assert "More passages" in [b["text"] for b in more.buttons()]

        api.press(42, answer, answer.button("Full paragraph")["callback_data"])
        paragraph = (await bot.reply(42, answer.message_id, n=2))[-1]
        assert "Keo Remy, president of the Cambodian Human Rights Committee" in paragraph.text
        assert paragraph.html.startswith("<b>CHRC asks EU")

        api.press(43, answer, answer.button("👍")["callback_data"])
        await bot.until(
            lambda s: any(a.get("text") == "Thanks for the feedback!" for a in s.callback_answers)
        )
    votes = [e for e in settings_log(settings.feedback_log) if e["event"] == "feedback"]
    assert votes == [votes[0]] and votes[0]["vote"] == "up"
    assert votes[0]["question"] == "Who is Keo Remy?"


async def test_forged_stale_and_foreign_buttons_expire(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        answer = await bot.ask(42, "Who is Keo Remy?")
        real = answer.button("More passages")["callback_data"]
        kind, key, _arg, mac = real.split("|")
        forged = [
            f"{kind}|{key}|40|{mac}",  # tampered argument, old signature
            "m|AAAAAAAA|5|AAAAAAAAAAA",  # made up
            bot.services.codec.encode(Kind.MORE, "zzzzzzzz", "5"),  # signed, but no such answer
            "x" * 64,
            "",
        ]
        for data in forged:
            api.press(42, answer, data)
        other_chat = Sent(**{**answer.__dict__, "chat_id": 77})  # the same button, elsewhere
        api.press(77, other_chat, real)
        expired = await bot.until(
            lambda s: (
                len([a for a in s.callback_answers if "expired" in a.get("text", "")]) >= 6
                and s.callback_answers
            )
        )
    assert len(expired) == 6
    assert len(api.replies(42)) == 1  # nothing but the first answer was ever sent


async def test_commands_start_help(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        commands = await bot.until(lambda s: s.commands)
        api.message(5, "/start")
        welcome = (await bot.reply(5))[-1]
        api.message(5, "/help")
        help_ = (await bot.reply(5, n=2))[-1]
        api.message(5, "/nonsense")
        unknown = (await bot.reply(5, n=3))[-1]
    assert {c["command"] for c in commands} == {"start", "help", "ask", "sources", "source"}
    assert "For example:\n<code>Who is Keo Remy?</code>" in welcome.html
    assert "/ask QUESTION" in help_.text and "/sources" in help_.text
    assert "/help" in unknown.text


async def test_sources_are_paged_and_source_looks_up_ids(api: FakeBotApi, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(23):
        (corpus / f"doc{i:02d}.txt").write_text(f"Document number {i} talks about topic {i}.\n")
    index = tmp_path / "index"
    embedder = build_fake_index(index, corpus)
    retriever = Retriever(open_index(index, embedder.name), embedder)
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    async with running_bot(api, bot_settings(api, tmp_path), retriever) as bot:
        api.message(5, "/sources")
        page1 = (await bot.reply(5))[-1]
        assert "23 document(s)</b>, page 1/3" in page1.html
        assert [b["text"] for b in page1.buttons()] == ["▶"]
        api.press(5, page1, page1.button("▶")["callback_data"])
        page2 = await bot.until(lambda s: next((m for m in s.sent if m.edits), None))
        assert "page 2/3" in page2.html and "doc10" in page2.html
        assert [b["text"] for b in page2.buttons()] == ["◀", "▶"]
        for n, arg in enumerate(["3", "²", "9" * 4000, "-1"], start=1):
            api.message(5, f"/sources {arg}")
            page = (await bot.reply(5, n=1 + n))[-1]
            assert ("page 3/3" if arg == "3" else "page 1/3") in page.html, arg[:10]

        api.message(5, "/source doc07")
        doc = (await bot.reply(5, n=6))[-1]
        assert "ID: doc07" in doc.text and "Document number 7" in doc.text
        api.message(5, "/source ../secret")
        missing = (await bot.reply(5, n=7))[-1]
        api.message(5, "/source")
        usage = (await bot.reply(5, n=8))[-1]
        api.message(5, f"/source {tmp_path / 'secret.txt'}")  # a real file, by absolute path
        absolute = (await bot.reply(5, n=9))[-1]
        api.message(5, f"/source {corpus / 'doc07.txt'}")  # a real corpus file, not an id
        by_path = (await bot.reply(5, n=10))[-1]
    assert "no document with the id" in missing.text and "TOP SECRET" not in missing.text
    assert "no document with the id" in absolute.text and "TOP SECRET" not in absolute.text
    assert "no document with the id" in by_path.text and "Document number 7" not in by_path.text
    assert usage.text.startswith("Usage: /source ID")


async def test_groups_answer_ask_mentions_and_replies_only(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        kw = {"chat_id": GROUP, "chat_type": "supergroup"}
        _, chatter = api.message(1, "Who is Keo Remy? (just chatting)", **kw)
        ask = await bot.ask(1, "/ask Who is Keo Remy?", **kw)
        assert ask.html.startswith("<blockquote>")
        ask_at = await bot.ask(2, f"/ask@{BOT_USERNAME} Who is Keo Remy?", **kw)
        assert ask_at.html.startswith("<blockquote>")
        mention_text = f"@{BOT_USERNAME} who is Keo Remy?"
        mention = await bot.ask(
            3,
            mention_text,
            entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}],
            **kw,
        )
        assert mention.html.startswith("<blockquote>Keo Remy")
        bot_msg = {
            "message_id": ask.message_id,
            "date": 0,
            "chat": {"id": GROUP, "type": "supergroup", "title": "g"},
            "from": {"id": 123456789, "is_bot": True, "first_name": "Citebot"},
            "text": ask.text,
        }
        reply = await bot.ask(4, "Who is Keo Remy?", reply_to=bot_msg, **kw)
        assert reply.html.startswith("<blockquote>")
        other = {**bot_msg, "from": {"id": 999, "is_bot": False, "first_name": "Bob"}}
        _, ignored_reply = api.message(5, "Who is Keo Remy?", reply_to=other, **kw)
        await bot.ask(1, "/ask Who is Keo Remy?", **kw)  # processed after the ignored ones
    assert api.replies(GROUP, chatter["message_id"]) == []
    assert api.replies(GROUP, ignored_reply["message_id"]) == []


async def test_inline_mode_offers_quote_cards(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        api.inline(8, "Who is Keo Remy?")
        api.inline(8, "   ")
        answers = await bot.until(lambda s: len(s.inline_answers) >= 2 and s.inline_answers)
    full = next(a for a in answers if a["results"])
    empty = next(a for a in answers if not a["results"])
    assert empty["results"] == []
    results = full["results"]
    assert 1 < len(results) <= 50
    first = results[0]["input_message_content"]
    assert first["parse_mode"] == "HTML"
    assert first["message_text"].startswith("<blockquote>Keo Remy, president")
    assert "— <b>CHRC asks EU to consider cooperation on human rights</b>" in first["message_text"]
    assert results[0]["title"].startswith("Keo Remy")
    assert not api.state.refused


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 10_000,
        "<<<&&&***___>>>",
        "<b>Keo</b> & <i>Remy</i> *bold* _it_ &amp; &#60; <script>alert(1)</script>",
        "Who is Keo Remy? " * 50,
    ],
    ids=["empty", "blank", "10000", "symbols", "markup", "long"],
)
async def test_odd_messages_get_a_clean_reply(
    api: FakeBotApi,
    tmp_path: Path,
    fake_retriever: Retriever,
    text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        reply = await bot.ask(42, text)
    assert reply.parse_mode == "HTML"
    assert reply.text.strip()
    assert not api.state.refused
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_edits_channel_posts_stickers_and_photos(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        _, edited = api.message(
            42, "Who is Keo Remy?", kind="edited_message", extra={"edit_date": 1}
        )
        api.message(-100_777, "Who is Keo Remy?", chat_type="channel", kind="channel_post")
        sticker = {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        }
        _, st = api.message(43, None, extra=sticker)
        photo = {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}
        _, ph = api.message(44, None, extra=photo)
        answer = (await bot.reply(42, edited["message_id"]))[-1]
        st_reply = (await bot.reply(43, st["message_id"]))[-1]
        ph_reply = (await bot.reply(44, ph["message_id"]))[-1]
        await bot.ask(45, "Who is Keo Remy?")
    assert answer.html.startswith("<blockquote>")
    assert "only read text" in st_reply.text and "only read text" in ph_reply.text
    assert api.replies(-100_777) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_rate_limit_slows_down_a_flooding_user(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    spy = SpyRetriever(fake_retriever)
    async with running_bot(api, bot_settings(api, tmp_path, rate_limit_per_minute=2), spy) as bot:
        first = await bot.ask(42, "Who is Keo Remy?")
        second = await bot.ask(42, "Who is Keo Remy?")
        third = await bot.ask(42, "Who is Keo Remy?")
        _, fourth = api.message(42, "Who is Keo Remy?")
        other = await bot.ask(43, "Who is Keo Remy?")
        await bot.ask(44, "/help")
    assert first.html.startswith("<blockquote>") and second.html.startswith("<blockquote>")
    assert "asking faster than I can answer" in third.text
    assert api.replies(42, fourth["message_id"]) == []  # told once, then quiet
    assert other.html.startswith("<blockquote>")
    assert len(spy.asked) == 3


async def test_allow_lists_answer_only_listed_users_and_chats(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    spy = SpyRetriever(fake_retriever)
    settings = bot_settings(api, tmp_path, allowed_users=(1,), allowed_chats=(GROUP,))
    async with running_bot(api, settings, spy) as bot:
        _, stranger = api.message(2, "Who is Keo Remy?")
        api.message(2, "/start")
        api.inline(2, "Who is Keo Remy?")
        await bot.ask(1, "Who is Keo Remy?")
        await bot.ask(2, "/ask Who is Keo Remy?", chat_id=GROUP, chat_type="group")
        api.message(3, "/ask Who is Keo Remy?", chat_id=-100_999, chat_type="group")
        await bot.ask(1, "/help")
    assert api.replies(2) == [] and api.replies(-100_999) == []
    assert api.state.inline_answers == []
    assert len(spy.asked) == 2 and len(spy.searched) == 2  # strangers cost no retrieval
    users = {e["user"] for e in settings_log(settings.feedback_log)}
    assert users == {1, 2}  # user 2 only in the allowed group
    assert stranger["message_id"]


async def test_admin_reindex_swaps_in_a_new_index(api: FakeBotApi, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    embedder = build_fake_index(index, corpus)
    retriever = Retriever(open_index(index, embedder.name), embedder)
    (corpus / "005.txt").write_text("Zorblax Quintavelle is the mayor of Quuxland.\n")
    settings = bot_settings(api, tmp_path, admin_users=(9,), corpus=corpus, index=index)
    async with running_bot(api, settings, retriever) as bot:
        before = await bot.ask(9, "Who is Zorblax Quintavelle?")
        refused = await bot.ask(5, "/reindex")
        await bot.ask(9, "/reindex")
        done = await bot.until(
            lambda s: next((m for m in s.sent if m.text.startswith("Index rebuilt")), None)
        )
        after = await bot.ask(9, "Who is Zorblax Quintavelle?")
    assert before.text.startswith(NOT_FOUND)
    assert "Only the bot's admins" in refused.text
    assert "now in use" in done.text
    assert after.html.startswith("<blockquote>Zorblax Quintavelle is the mayor")


async def test_failed_reindex_keeps_the_old_index_and_answers_meanwhile(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    import threading

    release = threading.Event()

    def rebuild(current: Retriever) -> tuple[Retriever, str]:
        release.wait(10)
        raise OSError("disk full")

    settings = bot_settings(api, tmp_path, admin_users=(9,))
    async with running_bot(api, settings, fake_retriever, rebuild=rebuild) as bot:
        await bot.ask(9, "/reindex")
        busy = await bot.ask(9, "/reindex")
        during = await bot.ask(9, "Who is Keo Remy?")
        release.set()
        failed = await bot.until(
            lambda s: next(
                (m for m in s.sent if m.text.startswith("Rebuilding the index failed")), None
            )
        )
        after = await bot.ask(9, "Who is Keo Remy?")
    assert "already running" in busy.text
    assert during.html.startswith("<blockquote>")
    assert "old index stays in use: disk full" in failed.text
    assert after.html.startswith("<blockquote>")


async def test_token_never_reaches_the_logs(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    from .fake_bot_api import Fault

    caplog.set_level(logging.DEBUG)
    redactor = protect_token(TOKEN)
    try:
        api.fail("sendMessage", Fault.garbage(502))
        api.fail("getUpdates", Fault.server_error(500))
        async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
            await bot.ask(42, "Who is Keo Remy?")
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redactor)
    assert TOKEN not in caplog.text
    assert REDACTED in caplog.text  # the URLs were logged, with the token replaced
    assert logging.getLogger("httpx").level == logging.WARNING


async def test_more_passages_continue_after_a_quote_moved_to_the_front(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    from bot import telegram_render as tr
    from index import Answer, Quote

    question = "Who is Keo Remy?"
    ranked = fake_retriever.search(question, 12)
    quoted = ranked[7]  # the answer quotes a passage from beyond the top 5 and shows it first
    sentence = quoted.chunk.text.split(". ")[0]
    quote = Quote(sentence, quoted.chunk.doc_id, quoted.chunk.start, quoted.chunk.start + 9, 0)
    shown = (quoted, *ranked[:4])
    spy = SpyRetriever(fake_retriever, fixed=Answer(question, quote, shown))
    async with running_bot(api, bot_settings(api, tmp_path), spy) as bot:
        answer = await bot.ask(42, question)
        api.press(42, answer, answer.button("More passages")["callback_data"])
        more = (await bot.reply(42, answer.message_id, n=1))[-1]
        api.press(42, more, more.button("More passages")["callback_data"])
        further = (await bot.reply(42, more.message_id, n=1))[-1]
    assert more.html == tr.more_messages([*ranked[4:7], *ranked[8:10]], 6)[0]
    assert further.html == tr.more_messages(fake_retriever.search(question, 15)[10:15], 11)[0]


async def test_full_paragraph_uses_the_quote_offsets_and_stays_in_one_message(
    api: FakeBotApi, tmp_path: Path
) -> None:
    from index import Answer, Quote

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rep.txt").write_text(
        "Apples are red. The committee met.\n\nPears are green. The committee met.\n"
    )
    line = " ".join(f"word{i}" for i in range(5000))  # one 50,000-character paragraph
    (corpus / "long.txt").write_text(line + "\n")
    index = tmp_path / "index"
    embedder = build_fake_index(index, corpus)
    retriever = Retriever(open_index(index, embedder.name), embedder)
    rep = retriever.text("rep")
    second = rep.rindex("The committee met.")
    long_text = retriever.text("long")
    middle = long_text.index("word2500 word2501")
    cases = [
        (Quote("The committee met.", "rep", second, second + 18, 0), "rep"),
        (Quote("word2500 word2501", "long", middle, middle + 17, 0), "long"),
    ]
    spy = SpyRetriever(retriever)
    answers = []
    async with running_bot(api, bot_settings(api, tmp_path), spy) as bot:
        for user, (quote, doc_id) in enumerate(cases, start=1):
            hits = tuple(h for h in retriever.search(quote.text, 20) if h.chunk.doc_id == doc_id)
            spy.fixed = Answer(quote.text, quote, hits[:1])
            answer = await bot.ask(user, quote.text)
            api.press(user, answer, answer.button("Full paragraph")["callback_data"])
            await bot.reply(user, answer.message_id)
            answers.append(answer)
    # the application has stopped: every message of the paragraphs was sent by now
    rep_paragraph, long_paragraph = (api.replies(a.chat_id, a.message_id) for a in answers)
    assert "Pears are green. The committee met." in rep_paragraph[0].text
    assert "Apples" not in rep_paragraph[0].text  # the second occurrence, by its offsets
    assert len(long_paragraph) == 1  # one message, not 13
    assert "word2500 word2501" in long_paragraph[0].text and "…" in long_paragraph[0].text
    assert not api.state.refused


async def test_token_in_an_exception_is_redacted_in_the_error_handlers_log(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever, caplog: pytest.LogCaptureFixture
) -> None:
    spy = SpyRetriever(fake_retriever, fail_on="explode")
    redactor = protect_token(TOKEN)
    try:
        async with running_bot(api, bot_settings(api, tmp_path), spy) as bot:
            apology = await bot.ask(42, f"explode https://api.telegram.org/bot{TOKEN}/getMe")
            assert apology.reply_to is not None  # the apology answers the question's message
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redactor)
    assert apology.text.startswith("Sorry") and TOKEN not in apology.text
    assert "boom while answering" in caplog.text and "Traceback" in caplog.text
    assert TOKEN not in caplog.text and REDACTED in caplog.text
