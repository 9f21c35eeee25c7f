from __future__ import annotations

from index import Retriever


def test_fake_retriever_answers_a_seed_question(fake_retriever: Retriever) -> None:
    answer = fake_retriever.ask("Which rights group does Am Sam Ath work for?")
    assert answer.quote is not None
    assert "LICADHO" in answer.quote.text
    assert answer.quote.doc_id == "000"
