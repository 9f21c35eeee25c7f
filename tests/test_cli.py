from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

import bot.__main__ as cli

from .fakes import CORPUS, FakeEmbedder


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a copy of the seed corpus, and the fake embedder wired in."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    for var in ("CITEBOT_INDEX", "CITEBOT_CORPUS", "CITEBOT_MODEL", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CITEBOT_MODEL", "fake-embedder")
    monkeypatch.setattr(cli, "make_embedder", lambda settings, export=False: FakeEmbedder())
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_then_ask(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "index")
    assert code == 0
    assert out.startswith("Indexed 5 documents into ")
    assert "(5 embedded, 0 unchanged, 0 removed)" in out
    code, out, _ = run(capsys, "ask", "Which rights group does Am Sam Ath work for?")
    assert code == 0
    assert "LICADHO" in out.split("Sources:")[0]
    assert "[1] CHRC asks EU to consider cooperation on human rights" in out


def test_ask_json_shape(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "index")
    code, out, _ = run(
        capsys, "ask", "--json", "-k", "3", "Which rights group does Am Sam Ath work for?"
    )
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"question", "answer", "passages"}
    assert set(data["answer"]) == {"quote", "doc_id", "start", "end"}
    text = (env / "corpus" / "000.txt").read_text(encoding="utf-8")
    assert text[data["answer"]["start"] : data["answer"]["end"]] == data["answer"]["quote"]
    assert len(data["passages"]) == 3
    scores = [p["score"] for p in data["passages"]]
    assert scores == sorted(scores, reverse=True)
    for p in data["passages"]:
        assert {"doc_id", "title", "source", "url", "date", "text", "start", "end", "score"} <= set(
            p
        )


def test_ask_reads_stdin(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "index")
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("Who founded CCHR?\n\nWhere is the head office?\n")
    )
    code, out, _ = run(capsys, "ask", "--json")
    assert code == 0
    lines = [json.loads(x) for x in out.strip().splitlines()]
    assert [x["question"] for x in lines] == ["Who founded CCHR?", "Where is the head office?"]


def test_ask_without_index(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", "anything")
    assert code == 2
    assert err.startswith("citebot: error: no index at var/index; build one with `citebot index")
    assert "Traceback" not in err and out == ""


def test_empty_question(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "index")
    code, _, err = run(capsys, "ask", "   ")
    assert code == 2
    assert (
        err.strip()
        == "citebot: error: the question is empty; pass a question, or none to read from stdin"
    )


def test_model_mismatch_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "index")
    monkeypatch.setenv("CITEBOT_MODEL", "all-MiniLM-L6-v2")
    code, _, err = run(capsys, "ask", "Who founded CCHR?")
    assert code == 2
    assert "was built with model 'fake-embedder'" in err
    assert len(err.strip().splitlines()) == 1


def test_empty_corpus(env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "index", "--corpus", str(tmp_path / "empty"))
    assert code == 2
    assert "no documents found in" in err


def test_skipped_files_are_reported(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "corpus" / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    code, out, err = run(capsys, "index")
    assert code == 0
    assert "skipped bad.txt: looks like a binary file" in err
    assert "1 file(s) skipped" in out


def test_bad_setting_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITEBOT_TOP_K", "lots")
    code, _, err = run(capsys, "sources")
    assert code == 2
    assert err.startswith("citebot: error: CITEBOT_TOP_K: Input should be a valid integer")


def test_sources(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "index")
    code, out, _ = run(capsys, "sources")
    assert code == 0
    assert out.startswith("5 document(s):")
    assert "- 004: NGOs told to up advocacy — Phnom Penh Post" in out


def test_chat_session(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "index")
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO("\n/sources\nWhich rights group does Am Sam Ath work for?\n/quit\n"),
    )
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert "5 document(s):" in out
    assert "LICADHO" in out


def test_eval_question_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "index")
    qa = Path(__file__).resolve().parent.parent / "eval" / "dev_qa.jsonl"
    code, out, _ = run(capsys, "eval", str(qa))
    assert code == 0
    names = [line.split(":")[0] for line in out.splitlines()]
    assert names == [
        "questions",
        "doc_hit@1",
        "doc_hit@3",
        "doc_mrr",
        "phrases_in_top_passage",
        "phrases_in_quote",
        "refusals_right",
        "refusals_wrong",
    ]


def test_eval_ir_collection(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coll = env / "mini"
    coll.mkdir()
    docs = [
        {"id": "1", "title": "Wings", "text": "Lift on swept wings at high speed."},
        {"id": "2", "title": "Heat", "text": "Heat transfer in laminar boundary layers."},
        {"id": "3", "title": "Shock", "text": "Shock waves over blunt bodies."},
    ]
    (coll / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (coll / "queries.jsonl").write_text(
        json.dumps({"id": "q1", "text": "heat transfer boundary layer"})
    )
    (coll / "qrels.tsv").write_text("q1\t2\t2\n")
    code, out, _ = run(capsys, "eval", "--ir", str(coll))
    assert code == 0
    assert "mini ndcg@10: 1.0000" in out
    assert "mini recall@100: 1.0000" in out


def test_eval_needs_exactly_one_input(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "eval")
    assert code == 2
    assert "give either a question FILE or --ir DIR" in err


def test_serve_without_token(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in err


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("index", "ask", "chat", "sources", "eval", "serve"):
        assert command in out
