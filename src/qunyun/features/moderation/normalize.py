"""Text normalization for matching: what a spammer disguises, made plain again.

`normalize(text)` folds the tricks used to slip past word filters so that one banned word
catches its variants:

- full-width and compatibility forms -> their plain form (ＶＸ -> vx, ① -> 1, ⓥ -> v, ㊄ -> 五),
- case (lower case) and accents (é -> e),
- traditional -> simplified Chinese, character by character (OpenCC's t2s table),
- look-alike letters from other scripts (Cyrillic а, Greek ο -> Latin a, o),
- spaces, punctuation, symbols, emoji, zero-width and control characters are dropped, so
  "微 信", "微.信" and "微❤信" all read "微信", and "加@V" reads "加v",
- inside runs of digits: Chinese numerals (一二三, 壹贰叁, 〇, 幺) -> ASCII digits, and o/O -> 0,
  l/I -> 1 between digits ("1三8 oo1" -> "138001"); numerals outside such runs stay as they are.

The result keeps the way back to the original (`position`, `span`, or `origin` for every
character at once), so a match found on the normalized text is reported on the original.
The character tables are built once, on first use or at startup (about half a second).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import compress

import opencc

# Letters from other scripts that look like Latin ones (after lower-casing).
LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h",
    "ɡ": "g", "ӏ": "l", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ı": "i", "ℓ": "l",
}
# Circled and negative circled digits and letters that Unicode gives no decomposition.
_EXTRA_DIGITS = {0x24FF: "0", 0x24EA: "0", 0x1F10B: "0", 0x1F10C: "0"}
for _i in range(10):
    _EXTRA_DIGITS[0x2776 + _i] = str(_i + 1)  # ❶..❿
    _EXTRA_DIGITS[0x2780 + _i] = str(_i + 1)  # ➀..➉
    _EXTRA_DIGITS[0x278A + _i] = str(_i + 1)  # ➊..➓
    _EXTRA_DIGITS[0x24F5 + _i] = str(_i + 1)  # ⓵..⓾
for _i in range(10):
    _EXTRA_DIGITS[0x24EB + _i] = str(_i + 11)  # ⓫..⓴
for _i in range(26):
    _EXTRA_DIGITS[0x1F150 + _i] = chr(0x61 + _i)  # negative circled A..Z
    _EXTRA_DIGITS[0x1F170 + _i] = chr(0x61 + _i)  # negative squared A..Z

# Chinese numerals (after traditional -> simplified) read as digits inside digit runs.
NUMERALS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
            "六": "6", "七": "7", "八": "8", "九": "9", "壹": "1", "贰": "2", "叁": "3",
            "肆": "4", "伍": "5", "陆": "6", "柒": "7", "捌": "8", "玖": "9", "幺": "1"}
_NUMERAL_TABLE = str.maketrans(NUMERALS)
_LOOKALIKE_DIGITS = str.maketrans({"o": "0", "i": "1", "l": "1"})
_DIGIT_CLASS = "0-9" + "".join(NUMERALS)
MIN_DIGIT_RUN = 4  # numerals are read as digits only in runs at least this long
_RUN = re.compile(f"[{_DIGIT_CLASS}oil]{{{MIN_DIGIT_RUN},}}")
_LOOKALIKE_BETWEEN_DIGITS = re.compile(r"(?<=\d)[oil]+(?=\d)")
_DIGITS_AS_ZERO = bytes(48 if 48 <= code <= 57 else 32 for code in range(256))  # "0" or " "

# Code point ranges examined when building the tables (BMP, math letters, enclosed
# alphanumerics, emoji, tags and variation selectors); other code points pass unchanged.
_RANGES = ((0, 0xD800), (0xE000, 0x10000), (0x1D400, 0x1D800), (0x1F000, 0x1FB00),
           (0xE0000, 0xE01F0))
_CJK_RANGE = (0x3400, 0xA000)
_BMP_LAST = "\uffff"
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_EXPANDS = b"\1expands"  # not marks: the text has characters that give several
_SAME_POSITIONS = b""  # marks where nothing is dropped (no NUL to count)


@dataclass(frozen=True, slots=True)
class _Tables:
    deleted: frozenset[str]
    mapping: dict[int, str]  # code point -> replacement (already lower case, maybe empty)
    full: dict[int, str | None]  # `mapping` plus the deleted characters, for str.translate
    spaced: dict[int, str]  # `mapping` plus the deleted characters as spaces
    ascii: dict[int, str | None]  # lower case and deletion for ASCII text
    ascii_lower: bytes  # a bytes.translate table: A-Z -> a-z
    ascii_dropped: bytes  # the ASCII characters dropped
    ascii_marks: bytes  # a bytes.translate table: dropped ASCII characters -> NUL
    expanding_re: re.Pattern[str]  # characters that become more than one (ﬀ -> ff, ½ -> 12)
    # Regexes over the Basic Multilingual Plane only: character classes with code points
    # beyond it are slow in `re`, so text with such characters takes the translate path.
    kept_re: re.Pattern[str]  # runs of kept characters (findall + join: faster than sub)
    delete_one_re: re.Pattern[str]  # one deleted character
    rare_re: re.Pattern[str]  # characters that need `mapping` (beyond plain lower-casing)


class Normalized:
    """A text and its normalized form, with the way back to the original positions."""

    __slots__ = ("_marks", "_origin", "original", "text")

    def __init__(self, original: str, text: str, origin: tuple[int, ...] | None = None,
                 marks: bytes | None = None) -> None:
        self.original = original
        self.text = text
        self._origin = origin
        self._marks = marks  # see `_dropped_marks` (computed on demand)

    @property
    def origin(self) -> tuple[int, ...]:
        """origin[i] = index in `original` of normalized character i (computed on demand)."""
        if self._origin is None:
            if len(self.text) == len(self.original) and self.text == self.original.lower():
                # Nothing dropped or expanded (lower() kept the length): positions are equal.
                self._origin = tuple(range(len(self.original)))
                return self._origin
            self._origin = _origin_of(self.original)
            if len(self._origin) != len(self.text):  # pragma: no cover - a table bug
                raise AssertionError("normalization is not character by character")
        return self._origin

    @property
    def one_to_one(self) -> bool:
        """Whether every kept original character gave exactly one normalized character."""
        return self._dropped_marks() is not _EXPANDS

    def position(self, index: int) -> int:
        """The index in `original` of normalized character `index` (0 <= index < len(text));
        cheaper than `origin` for a few positions."""
        marks = self._dropped_marks()
        if marks is _EXPANDS:
            return self.origin[index]
        return _kept_index(marks, index) if marks else index

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) that covers normalized [start, end)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"bad normalized span {start}:{end} of {len(self.text)}")
        marks = self._dropped_marks()
        if marks is _EXPANDS:
            origin = self.origin
            return origin[start], origin[end - 1] + 1
        if not marks:  # nothing dropped
            return start, end
        return _kept_index(marks, start), _kept_index(marks, end - 1) + 1

    def _dropped_marks(self) -> bytes:
        if self._marks is None:
            self._marks = _dropped_marks(self.original)
        return self._marks

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Normalized):
            return NotImplemented
        return (self.original, self.text) == (other.original, other.text)

    def __hash__(self) -> int:
        return hash((self.original, self.text))

    def __repr__(self) -> str:
        return f"Normalized(original={self.original!r}, text={self.text!r})"


def normalize(text: str) -> Normalized:
    """Fold disguises (see the module docstring); cheap for plain ASCII and CJK text."""
    tables = _tables()
    if text.isascii():  # bytes.translate: several times faster than str.translate
        data = text.encode("ascii").translate(tables.ascii_lower, tables.ascii_dropped)
        folded = data.decode("ascii")
        # Nothing dropped: the positions are the same (digit runs keep their length).
        same = _SAME_POSITIONS if len(data) == len(text) else None
        if data.translate(_DIGITS_AS_ZERO).count(48) < MIN_DIGIT_RUN:  # no digit run: done
            return Normalized(text, folded, None, same)
    elif _ASTRAL.search(text) is not None:
        folded = text.translate(tables.full).lower()
        same = None
    else:
        folded = "".join(tables.kept_re.findall(text))
        same = _SAME_POSITIONS if len(folded) == len(text) else None
        if tables.rare_re.search(folded) is not None:
            folded = folded.translate(tables.mapping)
            same = None
        folded = folded.lower()
    if _RUN.search(folded) is not None:
        folded = _RUN.sub(_digits_in_run, folded)
    return Normalized(text, folded, None, same)


def fold(text: str) -> str:
    """Like `normalize`, but readable: dropped characters become spaces and digit runs stay
    as written (for tokenizers: "ＶＸ：ａｂｃ 發財" -> "vx abc 发财")."""
    tables = _tables()
    return text.translate(tables.spaced).lower()


def normalize_char(char: str) -> str:
    """What one character becomes, before the digit-run rules ("" when dropped)."""
    tables = _tables()
    if char in tables.deleted:
        return ""
    return tables.mapping.get(ord(char), char).lower()


def _digits_in_run(match: re.Match[str]) -> str:
    run = match.group()
    digits = run.translate(_NUMERAL_TABLE)
    if sum(c.isdigit() for c in digits) < MIN_DIGIT_RUN:
        return run
    if "o" in digits or "i" in digits or "l" in digits:
        digits = _LOOKALIKE_BETWEEN_DIGITS.sub(
            lambda m: m.group().translate(_LOOKALIKE_DIGITS), digits)
    return digits


def _dropped_marks(original: str) -> bytes:
    """A byte per original character: NUL where it is dropped (`_EXPANDS` where some
    character gives more than one)."""
    tables = _tables()
    if original.isascii():
        return original.encode("ascii").translate(tables.ascii_marks)
    if _ASTRAL.search(original) is None and tables.expanding_re.search(original) is None:
        return tables.delete_one_re.sub("\0", original).encode("ascii", "replace")
    return _EXPANDS


def _kept_index(marks: bytes, index: int) -> int:
    """The original index i of kept character `index`: the least i with
    i = index + (dropped in [0, i]), reached by iterating from i = index (each step counts
    in C, and a few steps do)."""
    at = index
    while (moved := index + marks.count(0, 0, at + 1)) != at:
        at = moved
    return at


def _origin_of(original: str) -> tuple[int, ...]:
    marks = _dropped_marks(original)
    if marks is _EXPANDS:
        return origin_by_character(original)
    return tuple(compress(range(len(original)), marks))  # the kept ones, found in C


def origin_by_character(original: str) -> tuple[int, ...]:
    """The origin computed character by character (any text; slower)."""
    tables = _tables()
    origin: list[int] = []
    for index, char in enumerate(original):
        if char in tables.deleted:
            continue
        origin.extend([index] * len(tables.mapping.get(ord(char), char).lower()))
    return tuple(origin)


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "PSZC" or category in ("Mn", "Me")


def _fold(char: str) -> str:
    """Compatibility form, lower case, accents stripped, look-alikes, symbols dropped."""
    if ord(char) in _EXTRA_DIGITS:
        return _EXTRA_DIGITS[ord(char)]
    folded = unicodedata.normalize("NFKC", char).lower()
    stripped = "".join(c for c in unicodedata.normalize("NFD", folded)
                       if unicodedata.category(c) != "Mn")
    folded = unicodedata.normalize("NFC", stripped)
    return "".join(LOOKALIKES.get(c, c) for c in folded if not _is_dropped(c))


@cache
def _tables() -> _Tables:
    deleted: list[str] = []
    mapping: dict[int, str] = {}
    for low, high in _RANGES:
        for code in range(low, high):
            char = chr(code)
            folded = _fold(char)
            if _is_dropped(char) and not folded:  # a symbol that is not a letter in disguise
                deleted.append(char)
                continue
            if folded != char.lower() or len(char.lower()) != 1:
                mapping[code] = folded
    _add_simplified(mapping)
    rare = [chr(code) for code in mapping if not ("A" <= chr(code) <= "Z")]
    full: dict[int, str | None] = {ord(char): None for char in deleted}
    full.update(mapping)
    spaced = {ord(char): " " for char in deleted}
    spaced.update(mapping)
    ascii_table: dict[int, str | None] = {
        code: None if chr(code) in deleted else chr(code).lower() for code in range(128)}
    expanding = [chr(code) for code, folded in mapping.items()
                 if len(folded) != 1 and code <= 0xFFFF]
    bmp_deleted = _char_class([c for c in deleted if c <= _BMP_LAST])
    return _Tables(
        deleted=frozenset(deleted), mapping=mapping, full=full, spaced=spaced,
        ascii=ascii_table, ascii_lower=bytes(range(256)).lower(),
        ascii_dropped=bytes(code for code, value in ascii_table.items() if value is None),
        ascii_marks=bytes(0 if code < 128 and ascii_table[code] is None else code
                          for code in range(256)),
        expanding_re=re.compile(_char_class(expanding)),
        kept_re=re.compile("[^" + bmp_deleted[1:] + "+"), delete_one_re=re.compile(bmp_deleted),
        rare_re=re.compile(_char_class([c for c in rare if c <= _BMP_LAST])))


def _add_simplified(mapping: dict[int, str]) -> None:
    converter = opencc.OpenCC("t2s")
    low, high = _CJK_RANGE
    chars = [chr(code) for code in range(low, high)]
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - OpenCC changed its behaviour
        raise RuntimeError("OpenCC t2s did not convert character by character")
    for char, simple in zip(chars, converted, strict=True):
        if simple != char and len(simple) == 1:
            mapping[ord(char)] = simple
    for code, folded in list(mapping.items()):  # e.g. ⼀ or 兀 compatibility forms
        if len(folded) == 1 and low <= ord(folded) < high:
            simple = converter.convert(folded)
            if len(simple) == 1:
                mapping[code] = simple


def _char_class(chars: list[str]) -> str:
    """A regex character class for `chars`, with consecutive code points as ranges."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    start = 0
    while start < len(codes):
        end = start
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        first, last = re.escape(chr(codes[start])), re.escape(chr(codes[end]))
        parts.append(first if start == end else f"{first}-{last}")
        start = end + 1
    return "[" + "".join(parts) + "]"
