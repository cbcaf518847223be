"""Word lists: parsing the text an operator pastes or a file holds, and the built-in lists.

A list is one entry per line. Empty lines and lines starting with `#` are skipped, a byte
order mark and surrounding spaces are ignored, entries that normalize to the same text are
folded into the first one. An entry longer than `MAX_WORD_CHARS` characters, or one with
nothing left after normalization (only symbols or spaces), is an error naming
`source:line`; all errors of a list are reported at once.

The built-in lists (`lists/*.txt` in this package) are our own: ads, contact solicitation and
abuse words, written for group chat, with few words that also occur in normal talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from qunyun.core.errors import ErrorCollector, FieldError, InvalidInput
from qunyun.core.i18n import N_
from qunyun.features.moderation.normalize import normalize

MAX_WORD_CHARS = 50
BUILTIN_CATEGORIES = ("ads", "contact", "abuse")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class WordEntry:
    word: str  # normalized form (what is matched)
    raw: str  # as written in the list
    category: str  # "ads", "contact", "abuse", "politics", "porn", "custom", ...
    source: str  # list name ("builtin:ads", "community", a file name)


def parse_wordlist(text: str, *, category: str, source: str) -> list[WordEntry]:
    """Entries of a list; InvalidInput naming every bad line (`source:line_no`)."""
    entries, errors = parse_wordlist_lenient(text, category=category, source=source)
    if errors:
        raise InvalidInput(N_("The word list {source} has errors."), source=source,
                           errors=errors)
    return entries


def parse_wordlist_lenient(
    text: str, *, category: str, source: str
) -> tuple[list[WordEntry], list[FieldError]]:
    """The good entries and the errors of the bad lines, for callers that skip bad lines."""
    collector = ErrorCollector()
    entries: list[WordEntry] = []
    seen: set[str] = set()
    for line_no, line in enumerate(text.split("\n"), start=1):
        raw = line.replace(_BOM, "").strip()
        if not raw or raw.startswith("#"):
            continue
        path = f"{source}:{line_no}"
        if len(raw) > MAX_WORD_CHARS:
            collector.add(path, N_("entry is too long ({length} characters, at most {limit})"),
                          length=len(raw), limit=MAX_WORD_CHARS)
            continue
        word = normalize(raw).text
        if not word:
            collector.add(path, N_("entry has no letters or digits: {entry}"), entry=raw)
            continue
        if word in seen:
            continue
        seen.add(word)
        entries.append(WordEntry(word=word, raw=raw, category=category, source=source))
    return entries, collector.errors


def words_as_entries(words: list[str], *, category: str, source: str) -> list[WordEntry]:
    """A list given as separate words (settings), with the same rules as a pasted list."""
    for index, word in enumerate(words):
        if "\n" in word or "\r" in word:
            raise InvalidInput(N_("The word list {source} has errors."), source=source,
                               errors=[FieldError(f"{source}:{index + 1}",
                                                  N_("one word per entry, without line breaks"))])
    return parse_wordlist("\n".join(words), category=category, source=source)


@cache
def _builtin() -> dict[str, tuple[WordEntry, ...]]:
    package = resources.files("qunyun.features.moderation").joinpath("lists")
    lists: dict[str, tuple[WordEntry, ...]] = {}
    for category in BUILTIN_CATEGORIES:
        text = package.joinpath(f"{category}.txt").read_text(encoding="utf-8")
        lists[category] = tuple(parse_wordlist(text, category=category,
                                               source=f"builtin:{category}"))
    return lists


def builtin_lists() -> dict[str, list[WordEntry]]:
    """Category -> entries of the lists shipped with qunyun (read once)."""
    return {category: list(entries) for category, entries in _builtin().items()}
