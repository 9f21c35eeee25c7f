"""The exception tree of citebot's engine.

Every error carries a message that says what went wrong *and what to do*; the command line
and the bot print ``str(error)`` as one line and never show a traceback.

    CitebotError                 base class; catch this at the entry points
    ├── ConfigError              a setting is missing or has a bad value
    ├── CorpusError              the corpus folder is missing or holds no usable document
    ├── DocumentError            one file could not be loaded (skipped, with this reason)
    ├── IndexNotFoundError       no index at the given path: run `citebot index`
    ├── IndexCorruptError        files missing, truncated or inconsistent: rebuild the index
    ├── ModelMismatchError       the index was built with another embedding model
    ├── ModelLoadError           the embedding model could not be loaded
    └── QuestionError            the question is empty or unusable
"""

from __future__ import annotations


class CitebotError(Exception):
    """Base class of every error citebot reports to a person."""


class ConfigError(CitebotError):
    """A setting is missing or invalid."""


class CorpusError(CitebotError):
    """The corpus folder is missing or holds no usable document."""


class DocumentError(CitebotError):
    """A single file could not be turned into a document; it is skipped."""


class IndexNotFoundError(CitebotError):
    """There is no index at the given location."""


class IndexCorruptError(CitebotError):
    """The index files are missing, truncated or inconsistent with each other."""


class ModelMismatchError(CitebotError):
    """The index was built with a different embedding model than the one configured."""


class ModelLoadError(CitebotError):
    """The embedding model could not be loaded."""


class QuestionError(CitebotError):
    """The question cannot be answered as asked (empty, or no words in it)."""
