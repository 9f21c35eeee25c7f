"""The ``citebot`` command line: index, ask, chat, sources, eval, bench, serve, run.

Errors are printed as one line on standard error with a non-zero exit status; a traceback
is only logged with ``CITEBOT_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from index import BuildProgress, CitebotError, ConfigError, QuestionError

from .config import Settings, load_settings
from .render import answer_json, answer_text, sources_text

if TYPE_CHECKING:
    from index import Embedder, Retriever

log = logging.getLogger("citebot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot",
        description="Answer questions from your documents with verbatim, cited quotes.",
        epilog="Settings come from the environment and .env (see .env.example).",
    )
    parser.add_argument("--env-file", default=".env", help="dotenv file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("index", help="build or update the index from the corpus folder")
    p.add_argument(
        "--corpus", type=Path, help="folder of documents (default: CITEBOT_CORPUS or ./corpus)"
    )
    p.add_argument(
        "--index", type=Path, help="index folder (default: CITEBOT_INDEX or ./var/index)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("ask", help="answer a question (or one per line from standard input)")
    p.add_argument("question", nargs="?", help="the question; omit to read questions from stdin")
    p.add_argument("--index", type=Path, help="index folder")
    p.add_argument(
        "-k", type=int, default=None, help="passages to show (default: CITEBOT_TOP_K or 5)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per question")

    p = sub.add_parser("chat", help="interactive chat in the terminal")
    p.add_argument("--index", type=Path, help="index folder")

    p = sub.add_parser("sources", help="list the documents in the index with their metadata")
    p.add_argument("--index", type=Path, help="index folder")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "eval", help="measure answer quality on a question file, or --ir on a test collection"
    )
    p.add_argument(
        "file", nargs="?", type=Path, help="question file (JSON lines: id, q, doc, answer)"
    )
    p.add_argument(
        "--ir",
        type=Path,
        metavar="DIR",
        help="test collection folder (docs.jsonl, queries.jsonl, qrels.tsv)",
    )
    p.add_argument("--index", type=Path, help="index folder (question files)")
    p.add_argument(
        "--passage-chars",
        type=int,
        default=4000,
        help="with --ir: passage size for the collection's index (default 4000: whole documents)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list every failed question")

    p = sub.add_parser("bench", help="measure speed, recall and memory at growing index sizes")
    p.add_argument(
        "--sizes", default="10000,100000,1000000", help="passages per index, comma-separated"
    )
    p.add_argument("--questions", type=int, default=300, help="questions timed per size")
    p.add_argument("--work", type=Path, default=Path("var/bench"), help="work folder (cached)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    sub.add_parser("serve", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser(
        "run", help="update the index, then serve the bot (or chat when no token is set)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file, **_overrides(args))
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        for noisy in ("httpx", "httpcore", "sentence_transformers", "transformers", "faiss"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # httpx logs URLs with the bot token
        return COMMANDS[args.command](args, settings)
    except CitebotError as exc:
        print(f"citebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, traceback only in the debug log
        log.debug("unexpected error", exc_info=True)
        print(
            f"citebot: internal error: {exc.__class__.__name__}: {exc} "
            "(set CITEBOT_LOG_LEVEL=DEBUG for the traceback)",
            file=sys.stderr,
        )
        return 1


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("corpus", "index"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    if getattr(args, "k", None) is not None:
        out["top_k"] = args.k
    return out


def make_embedder(settings: Settings, export: bool = False) -> Embedder:
    """The embedder for ``settings.model``: its ONNX export when there is one (fast start).

    With ``export``, the export is made first if missing (``citebot index`` does this).
    """
    from index import SentenceTransformerEmbedder
    from index.onnx_embedder import OnnxEmbedder, export_onnx, onnx_folder
    from index.store import canonical_model

    if settings.onnx:
        folder = onnx_folder(settings.index, canonical_model(settings.model))
        if export:
            exported = export_onnx(settings.model, folder)
            if exported is not None:
                return exported
        elif (folder / "meta.json").is_file():
            try:
                return OnnxEmbedder(folder)
            except Exception:
                log.warning("ONNX model in %s is unusable; using sentence-transformers", folder)
    return SentenceTransformerEmbedder(settings.model)


def open_retriever(settings: Settings) -> Retriever:
    from index import Retriever
    from index.store import open_index

    index = open_index(settings.index, settings.model)  # fails fast, before loading the model
    return Retriever(index, make_embedder(settings))


class _Bar(BuildProgress):
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: object | None = None

    def start(self, total_passages: int) -> None:
        if self._enabled and total_passages:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_passages, unit="passage", desc="Embedding", file=sys.stderr
            )

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)  # type: ignore[attr-defined]

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()  # type: ignore[attr-defined]


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from index import BuildSettings, build_index

    build = BuildSettings(settings.chunking, settings.passage_title, settings.max_file_bytes)
    quiet = bool(getattr(args, "quiet", False)) or not sys.stderr.isatty()
    report = build_index(
        settings.corpus,
        settings.index,
        make_embedder(settings, export=True),
        build,
        _Bar(not quiet),
    )
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.question is not None and not args.question.strip():
        raise QuestionError("the question is empty; pass a question, or none to read from stdin")
    retriever = open_retriever(settings)
    questions = [args.question] if args.question is not None else _stdin_questions()
    status = 0
    for question in questions:
        try:
            answer = retriever.ask(question, k=settings.top_k)
        except QuestionError as exc:
            if args.question is not None:
                raise
            print(f"citebot: error: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
        else:
            print(answer_text(answer) + "\n", flush=True)
    return status


def _stdin_questions() -> list[str]:
    return [line.strip() for line in sys.stdin if line.strip()]


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    retriever = open_retriever(settings)
    print("citebot chat: ask a question about the documents. /sources lists them, /quit ends.")
    while True:
        try:
            line = input("\n? ").strip()
        except EOFError:
            print()
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return 0
        if line == "/sources":
            print(sources_text(retriever.sources()))
            continue
        try:
            print(answer_text(retriever.ask(line, k=settings.top_k)))
        except QuestionError as exc:
            print(f"(!) {exc}")


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from index.store import open_index

    docs = open_index(settings.index).docs
    if args.json:
        print(json.dumps([asdict(d) for d in docs], ensure_ascii=False, indent=1))
    else:
        print(sources_text(list(docs)))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from index.evaluate import (
        build_collection_index,
        eval_collection,
        eval_questions,
        read_questions,
    )

    if (args.file is None) == (args.ir is None):
        raise ConfigError("give either a question FILE or --ir DIR, not both or neither")
    if args.ir is not None:
        from index import BuildSettings, ChunkSettings, Retriever, SearchSettings
        from index.store import open_index

        folder: Path = args.ir
        embedder = make_embedder(settings, export=True)
        work = settings.index.parent / "eval" / folder.resolve().name
        # The collections are judged per document (abstracts of 100-300 words): each document
        # is one passage here unless longer than --passage-chars, then ranked by its best one.
        chunks = ChunkSettings(args.passage_chars, 2 * args.passage_chars, 0)
        build = BuildSettings(chunks, settings.passage_title, settings.max_file_bytes)
        build_collection_index(folder, work, embedder, build, _Bar(sys.stderr.isatty()))
        # Test-collection queries can be paragraphs (cisi has some of 2,000 characters).
        retriever = Retriever(
            open_index(work, settings.model), embedder, SearchSettings(max_question_chars=20_000)
        )
        report = eval_collection(folder, retriever)
        print("\n".join(report.lines()))
        return 0
    items = read_questions(args.file)
    qa = eval_questions(open_retriever(settings), items, k=settings.top_k)
    print("\n".join(qa.lines()))
    if args.verbose:
        for failure in qa.failures:
            print(f"  {failure}")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from index.bench import run_from_cli

    print(
        run_from_cli(
            args.sizes, args.questions, args.work, settings.model, args.json, args.env_file
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env")
    from .app import run_bot

    run_bot(settings, open_retriever(settings))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    cmd_index(args, settings)
    if settings.telegram_bot_token is None:
        print("TELEGRAM_BOT_TOKEN is not set: starting the local chat instead of the bot.")
        return cmd_chat(args, settings)
    return cmd_serve(args, settings)


COMMANDS = {
    "index": cmd_index,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "sources": cmd_sources,
    "eval": cmd_eval,
    "bench": cmd_bench,
    "serve": cmd_serve,
    "run": cmd_run,
}

if __name__ == "__main__":
    sys.exit(main())
