"""An example question for /start, drawn from the corpus and checked to be answerable."""

from __future__ import annotations

import re

from index import Retriever

# A capitalized name followed by an apposition: "Keo Remy, president of ..." introduces a person.
_APPOSITION = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+){1,2}), (?:the |a |an )?[a-z]")
_NOT_A_NAME = {"In", "On", "At", "For", "The", "But", "And", "As", "By", "Of", "To", "With"}
MAX_TRIES = 8


def example_question(retriever: Retriever) -> str | None:
    """A "Who is NAME?" question about a person the documents introduce, that the engine answers.

    Falls back to a question about the first document's title; None for an empty index.
    """
    docs = retriever.sources()
    if not docs:
        return None
    tried = 0
    for doc in docs:
        for match in _APPOSITION.finditer(retriever.text(doc.id)):
            name = match.group(1)
            if name.split()[0] in _NOT_A_NAME:
                continue
            question = f"Who is {name}?"
            answer = retriever.ask(question, k=3)
            if answer.quote is not None and name in answer.quote.text:
                return question
            tried += 1
            if tried >= MAX_TRIES:
                break
        if tried >= MAX_TRIES:
            break
    return f"What does “{docs[0].title}” say?"
