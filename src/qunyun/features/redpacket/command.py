"""The send command as members type it: `发红包 100 10 拼手气 恭喜发财`,
`redpacket 100 10 equal`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qunyun.core.commands import COMMAND_SIGNS, normalize
from qunyun.features.redpacket.shares import EQUAL, RANDOM

MODE_WORDS = {"拼手气": RANDOM, "手气": RANDOM, "随机": RANDOM, "random": RANDOM,
              "lucky": RANDOM, "普通": EQUAL, "平均": EQUAL, "均分": EQUAL, "equal": EQUAL}
NUMBER = re.compile(r"\d{1,9}")


@dataclass(frozen=True, slots=True)
class SendRequest:
    total: int
    count: int
    mode: str | None  # None: the group's default
    keyword: str  # the 口令, "" for none


def parse_send(argument: str) -> SendRequest | None:
    """The request in the command's argument; None when it does not start with two numbers."""
    parts = argument.split()
    if len(parts) < 2 or not all(NUMBER.fullmatch(p) for p in parts[:2]):
        return None
    rest = parts[2:]
    mode = MODE_WORDS.get(normalize(rest[0])) if rest else None
    if mode is not None:
        rest = rest[1:]
    return SendRequest(int(parts[0]), int(parts[1]), mode, " ".join(rest))


def spoken(text: str) -> str:
    """A message as compared with claim keywords and passwords: normalised, without a leading
    command sign."""
    said = normalize(text)
    if said[:1] and said[0] in COMMAND_SIGNS:
        said = said[1:].lstrip()
    return said
