"""Reading QQ chat-history text: the 消息管理器 export and the text QQ gives on copy.

The formats seen in the wild: the export (`2019-09-23 8:43:38 PM 昵称(QQ号)` then the body),
text copied from the chat window (`【头衔】昵称 2/14/2020 9:16:13 PM`, 12- or 24-hour, with or
without a date or weekday, `上午/下午`), from the message manager (`昵称(QQ号) 3:13:28 AM`,
date lines ` 2020-02-27`), from mobile (`昵称  23:50:12`, date lines `— —  2020-2-21  — —`),
and re-posted logs without times (`<昵称> text`, `【昵称】text`).

Messages without a body are dropped, as are system notices, except joins ("…加入本群。",
"A邀请B加入了本群。"), which are kept as joins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

_T12 = r"\d{1,2}:\d{2}:\d{2} ?[AaPp][Mm]"
_T24 = r"\d{1,2}:\d{2}:\d{2}"
_TCN = r"(?:上午|下午|中午|晚上|凌晨|早上) ?\d{1,2}:\d{2}:\d{2}"
_TIME = f"(?:{_T12}|{_TCN}|{_T24})"
_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{4}"
_WEEKDAY = r"星期[一二三四五六日天]|周[一二三四五六日天]"

EXPORT_HEADER = re.compile(rf"^(?P<date>\d{{4}}-\d{{1,2}}-\d{{1,2}}) (?P<time>{_T12}|{_T24}) "
                           rf"(?P<sender>.+?)\s*$")
COPIED_HEADER = re.compile(rf"^(?:【(?P<title>[^】]*)】)?(?P<sender>.+?) +(?:(?P<date>{_DATE}) )?"
                           rf"(?:(?:{_WEEKDAY}) )?(?P<time>{_TIME})\s*$")
TIMELESS_HEADER = re.compile(r"^(?:<(?P<a>[^<>]+)>|【(?P<b>[^】]+)】) ?(?P<text>.*)$")
DATE_LINE = re.compile(rf"^\s*(?:—\s*—\s*)?(?P<date>{_DATE})(?:\s*—\s*—)?\s*$")
TIMED_NOTICE = re.compile(rf"^(?P<time>{_T12}|{_T24})(?P<text>\S.*)$")
SENDER_NUMBER = re.compile(r"^(?P<name>.*?)\((?P<id>\d{4,12})\)$")
SENDER_EMAIL = re.compile(r"^(?P<name>.*?)<(?P<id>[^<>\s@]+@[^<>\s]+)>$")
INVITED = re.compile(r"^(?P<inviter>.+?)邀请(?P<who>.+?)加入了?本群。?$")
JOINED = re.compile(r"^(?P<who>.+?)加入了?本群。?$")
NOTICE = re.compile(r"撤回了一条消息|^你和.+个共同好友|^\[?系统消息")
SYSTEM_IDS = frozenset({"10000", "1000000"})
EXPORT_TITLE = re.compile(r"^(消息记录|消息分组|消息对象|=+$)")


@dataclass
class Line:
    """One message or join read from the text."""

    kind: str  # "message" or "join"
    name: str
    sender_id: str | None
    at: datetime | None
    text: str = ""
    inviter: str | None = None
    body: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    title: str | None = None
    items: list[Line] = field(default_factory=list)


def parse_date(text: str) -> date:
    if "-" in text:
        y, m, d = (int(p) for p in text.split("-"))
    elif re.match(r"^\d{4}/", text):
        y, m, d = (int(p) for p in text.split("/"))
    else:
        m, d, y = (int(p) for p in text.split("/"))
    return date(y, m, d)


def parse_time(text: str) -> time:
    text = text.strip()
    marker = ""
    for prefix in ("上午", "下午", "中午", "晚上", "凌晨", "早上"):
        if text.startswith(prefix):
            marker, text = prefix, text[len(prefix):].strip()
    suffix = text[-2:].upper()
    if suffix in ("AM", "PM"):
        marker, text = suffix, text[:-2].strip()
    hour, minute, second = (int(p) for p in text.split(":"))
    if marker in ("PM", "下午", "晚上") and hour < 12:
        hour += 12
    elif marker in ("AM", "上午", "凌晨", "早上") and hour == 12:
        hour = 0
    elif marker == "中午" and hour < 11:
        hour += 12
    return time(hour, minute, second)


def split_sender(sender: str) -> tuple[str, str | None]:
    for pattern in (SENDER_NUMBER, SENDER_EMAIL):
        match = pattern.match(sender)
        if match:
            return match.group("name").strip(), match.group("id")
    return sender.strip(), None


class _Reader:
    """State while reading: the date in force, the last time, the message being read."""

    def __init__(self, start: date | None) -> None:
        self.day = start
        self.last: datetime | None = None
        self.current: Line | None = None
        self.after_blank = False
        self.out = Transcript()

    def when(self, day_text: str | None, time_text: str | None) -> datetime | None:
        if day_text:
            self.day = parse_date(day_text)
        if time_text is None:
            return self.last
        if self.day is None:
            raise ValueError("the text has times without a date; give the date it starts on")
        at = datetime.combine(self.day, parse_time(time_text))
        if day_text is None and self.last is not None and at < self.last:
            self.day += timedelta(days=1)  # past midnight in a text without dates
            at += timedelta(days=1)
        self.last = at
        return at

    def start(self, name: str, sender_id: str | None, at: datetime | None) -> None:
        self.current = Line("message", name, sender_id, at)
        self.out.items.append(self.current)
        self.after_blank = False

    def notice(self, text: str, at: datetime | None) -> bool:
        """A system line: joins are kept; True when `text` was one."""
        text = text.strip()
        invited, joined = INVITED.match(text), JOINED.match(text)
        if invited or joined:
            match = invited or joined
            assert match is not None
            line = Line("join", match.group("who").strip(), None, at or self.last)
            line.inviter = invited.group("inviter").strip() if invited else None
            self.out.items.append(line)
            return True
        return bool(NOTICE.search(text))


def _header(line: str, timeless: bool) -> tuple[str, str | None, str | None, str | None] | None:
    """(sender, date, time, same-line text) when `line` starts a message."""
    if timeless:
        match = TIMELESS_HEADER.match(line)
        return (match.group("a") or match.group("b"), None, None, match.group("text")) \
            if match else None
    match = EXPORT_HEADER.match(line) or COPIED_HEADER.match(line)
    if match is None:
        return None
    return match.group("sender"), match.group("date"), match.group("time"), None


def read_transcript(text: str, start: date | None = None) -> Transcript:
    """The messages and joins of a QQ text; ValueError when times have no date to go by."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    timeless = not any(EXPORT_HEADER.match(x) or COPIED_HEADER.match(x) for x in lines)
    reader = _Reader(start)
    for raw in lines:
        _read_line(reader, raw.rstrip(), timeless)
    for item in reader.out.items:
        item.text = "\n".join(item.body).strip("\n")
    reader.out.items = [i for i in reader.out.items
                        if i.kind == "join" or (i.text.strip() and i.sender_id not in SYSTEM_IDS)]
    return reader.out


def _read_line(reader: _Reader, line: str, timeless: bool) -> None:
    if not line.strip():
        reader.after_blank = True
        return
    if EXPORT_TITLE.match(line):
        if line.startswith("消息对象"):
            reader.out.title = line.split(":", 1)[-1].strip() or None
        return
    date_line = DATE_LINE.match(line)
    if date_line:
        reader.when(date_line.group("date"), None)
        return
    timed = TIMED_NOTICE.match(line)
    if timed and reader.notice(timed.group("text"), reader.when(None, timed.group("time"))):
        return
    header = _header(line, timeless)
    if header is not None:
        sender, day_text, time_text, same_line = header
        name, sender_id = split_sender(sender)
        reader.start(name, sender_id, reader.when(day_text, time_text))
        if same_line:
            reader.current.body.append(same_line)  # type: ignore[union-attr]
        return
    current = reader.current
    system_sender = current is not None and current.sender_id in SYSTEM_IDS
    if (reader.after_blank or system_sender or current is None) and reader.notice(line, None):
        return
    if current is not None:
        if reader.after_blank and current.body:
            current.body.append("")
        current.body.append(line)
    reader.after_blank = False
