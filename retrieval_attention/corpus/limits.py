"""What one input may cost: how many records a corpus may have, and how long a text the model reads.

One student must not be able to exhaust a server the class shares: the app and the CLI refuse more
than :data:`MAX_ROWS` records (the CLI's ``--max-rows`` moves its limit) before a row is built, and
the corpus loading cuts every title and description at :data:`MAX_TITLE_CHARS`, which is more than
the model ever reads.
"""

from __future__ import annotations

from retrieval_attention.errors import CorpusError

__all__ = ["MAX_ROWS", "MAX_TITLE_CHARS", "RowLimitError", "cut_text"]

#: Most records the app accepts in an upload or a paste, and the CLI's default ``--max-rows``: the
#: numpy encoder embeds a few hundred short titles a second on a laptop CPU (keys and values: two
#: passes), so 20,000 rows already take a minute or two; 300,000 one-character lines took minutes.
MAX_ROWS = 20_000


class RowLimitError(CorpusError):
    """More records than the limit: raised before a row is checked or embedded."""

    def __init__(self, label: str, rows: int, limit: int) -> None:
        super().__init__(f"{label} has {rows:,} records; the limit is {limit:,}")
        self.label = label  # the file's name, or "pasted titles"
        self.rows = rows  # records (or non-blank lines) found
        self.limit = limit  # the max_rows that was given


#: A title or description longer than this is cut to it (whitespace runs first made one space),
#: and the cut counted in :attr:`Corpus.cut_titles`. The model never reads further: it keeps
#: max_seq_length tokens (256 for all-MiniLM-L6-v2, 512 for multilingual-e5-small), a WordPiece
#: token covers at most 100 characters (a longer word is one [UNK]), so 256 tokens span at most
#: 256 × 101 = 25,856 characters, and e5's 512 SentencePiece pieces far fewer. Without the cut a
#: 3 MB title was tokenised whole (+450 MB in the library, +2.4 GB in the app, where the whole
#: title went on into every chart, table and fingerprint of every rerun).
MAX_TITLE_CHARS = 32_768


def cut_text(text: str) -> str:
    """``text`` at most :data:`MAX_TITLE_CHARS` long: whitespace runs made one space, then cut.

    Whitespace separates tokens and makes none, so a run of it must not push words the model
    reads past the cut.

    Example:
        >>> cut_text("a" + " " * 40_000 + "b"), len(cut_text("word " * 10_000)) <= MAX_TITLE_CHARS
        ('a b', True)
    """
    if len(text) <= MAX_TITLE_CHARS:
        return text
    return " ".join(text.split())[:MAX_TITLE_CHARS].rstrip()
