"""The plain frozen types a corpus is made of: Video, Corpus, Persona, and the lookup key normalisation."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace

from retrieval_attention.infra.paths import printable_label  # re-exported: its home is the paths module

__all__ = [
    "FIELDS",
    "UNCATEGORISED",
    "Corpus",
    "Persona",
    "Video",
    "normalize_key",
    "printable_label",
    "unencodable",
]

#: Every field a record can have, in file order.
FIELDS = ("id", "title", "channel", "category", "duration_s", "views", "upload_date", "description", "language")
#: The category of a record that names none.
UNCATEGORISED = "uncategorised"


def normalize_key(text: str) -> str:
    """The dictionary key a hard lookup uses: Unicode NFKC, case-folded, whitespace collapsed.

    Nothing more: a dictionary has no notion of "close", and that is the lesson.

    Example:
        >>> normalize_key("  Learn   PYTHON in One Hour ")
        'learn python in one hour'
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def unencodable(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8, or None if it can.

    Python strings may hold lone surrogates (from a JSON ``\\ud800`` escape without its partner, or
    from bytes that were not UTF-8 in a file name or a command-line argument); the tokenizer, the
    corpus hash and the browser all fail on them, so every text input is checked with this.

    Example:
        >>> unencodable("caf\\udce9")
        'a lone surrogate U+DCE9 at character 4'
        >>> unencodable("café") is None
        True
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate U+{ord(text[exc.start]):04X} at character {exc.start + 1}"
    return None


@dataclass(frozen=True)
class Video:
    """One record: the key (``title``) and its payload."""

    id: str  # unique id
    title: str  # the key text
    channel: str = ""
    category: str = UNCATEGORISED  # one label; becomes a one-hot block of the value vector
    duration_s: float | None = None  # seconds, None if unknown
    views: int | None = None  # view count, None if unknown
    upload_date: str = ""  # ISO date, as written in the file
    description: str = ""  # short text, embedded with the title for the value vector
    language: str = ""  # e.g. en, zh, es


@dataclass(frozen=True)
class Corpus:
    """An ordered, validated collection of videos. Position i is key i and value i everywhere."""

    videos: tuple[Video, ...]
    source: str = "bundled"  # file path, "bundled" or "pasted"
    warnings: tuple[str, ...] = field(default=(), compare=False)  # non-fatal findings, for display
    cut_titles: int = field(
        default=0, compare=False
    )  # records whose title or description was cut to what the model reads

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self):
        return iter(self.videos)

    def __getitem__(self, i: int) -> Video:
        return self.videos[i]

    @property
    def ids(self) -> list[str]:
        return [v.id for v in self.videos]

    @property
    def titles(self) -> list[str]:
        return [v.title for v in self.videos]

    @property
    def categories(self) -> list[str]:
        """Distinct categories, sorted: the order of the one-hot block in the value vector."""
        return sorted({v.category for v in self.videos})

    def index_of(self, video_id: str) -> int:
        """Position of ``video_id``; raises KeyError with the id if unknown."""
        try:
            return self._positions[video_id]
        except KeyError:
            raise KeyError(f"unknown video id {video_id!r}") from None

    @property
    def _positions(self) -> dict[str, int]:
        cached = self.__dict__.get("_pos")
        if cached is None:
            cached = {v.id: i for i, v in enumerate(self.videos)}
            object.__setattr__(self, "_pos", cached)
        return cached

    def by_id(self, video_id: str) -> Video:
        return self.videos[self.index_of(video_id)]

    @property
    def content_hash(self) -> str:
        """sha256 of every record: changes whenever any field of any record changes.

        The corpus's identity in every cache keyed by corpus (the records are frozen, so it is
        computed once per corpus object).
        """
        cached = self.__dict__.get("_hash")
        if cached is None:
            h = hashlib.sha256()
            for v in self.videos:
                h.update(json.dumps(asdict(v), ensure_ascii=False, sort_keys=True).encode())
            cached = h.hexdigest()
            object.__setattr__(self, "_hash", cached)
        return cached

    def has_numeric(self, name: str) -> bool:
        """True if at least one record knows ``duration_s`` / ``views``."""
        return any(getattr(v, name) is not None for v in self.videos)


@dataclass(frozen=True)
class Persona:
    """A user with a watch history, oldest first."""

    id: str
    name: str
    description: str
    history: tuple[str, ...]  # video ids, in the order watched
    watched_at: tuple[str, ...] = ()  # ISO timestamps, same length as history (or empty)
    translations: tuple[tuple[str, str, str], ...] = ()  # (language code, name, description) per language

    def in_language(self, lang: str) -> Persona:
        """This persona with its name and description in ``lang`` (as written when the file has no translation).

        Example:
            >>> p = Persona("p", "Mei", "cooks", ("v1",), translations=(("es", "Mei", "cocina"),))
            >>> p.in_language("es").description, p.in_language("zh").description
            ('cocina', 'cooks')
        """
        for code, name, description in self.translations:
            if code == lang:
                return replace(self, name=name or self.name, description=description or self.description)
        return self
