"""OneBot 11 message formats: the CQ-code string and the segment array, both ways.

String form: plain text with `&` `[` `]` escaped as `&amp;` `&#91;` `&#93;`; a media item is a
CQ code `[CQ:type,key=value,…]` whose values additionally escape `,` as `&#44;`. The function
name ends at the first `,` or `]`; each parameter's name ends at its first `=` (values may hold
`=`). Anything that is not a well-formed code (a stray bracket) is kept as text.
"""

from __future__ import annotations

import re
from typing import Any

Segment = dict[str, Any]

_TEXT_ESCAPES = {"&": "&amp;", "[": "&#91;", "]": "&#93;"}
_PARAM_ESCAPES = {**_TEXT_ESCAPES, ",": "&#44;"}
_UNESCAPES = {"&amp;": "&", "&#91;": "[", "&#93;": "]", "&#44;": ","}
_UNESCAPE = re.compile(r"&amp;|&#91;|&#93;|&#44;")
_TEXT_UNESCAPE = re.compile(r"&amp;|&#91;|&#93;")
_CODE = re.compile(r"\[CQ:([^,\[\]]+)((?:,[^\[\]]*)?)\]")


def escape_text(text: str) -> str:
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def escape_param(value: str) -> str:
    return "".join(_PARAM_ESCAPES.get(ch, ch) for ch in value)


def unescape_text(text: str) -> str:
    if "&" not in text:  # most messages: nothing escaped
        return text
    return _TEXT_UNESCAPE.sub(lambda m: _UNESCAPES[m.group(0)], text)


def unescape_param(value: str) -> str:
    return _UNESCAPE.sub(lambda m: _UNESCAPES[m.group(0)], value)


def _params(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if not raw:
        return params
    for part in raw[1:].split(","):  # raw starts with the first ","
        name, sep, value = part.partition("=")
        params[name] = unescape_param(value) if sep else ""
    return params


def parse_cq(message: str) -> list[Segment]:
    """A CQ string as a segment array (adjacent text merged)."""
    if "[" not in message:  # plain text, most messages: no code to look for
        text = unescape_text(message)
        return [{"type": "text", "data": {"text": text}}] if text else []
    segments: list[Segment] = []
    position = 0
    for match in _CODE.finditer(message):
        if match.start() > position:
            _add_text(segments, unescape_text(message[position:match.start()]))
        segments.append({"type": match.group(1), "data": _params(match.group(2))})
        position = match.end()
    if position < len(message):
        _add_text(segments, unescape_text(message[position:]))
    return segments


def _add_text(segments: list[Segment], text: str) -> None:
    if not text:
        return
    if segments and segments[-1]["type"] == "text":
        segments[-1] = {"type": "text", "data": {"text": segments[-1]["data"]["text"] + text}}
    else:
        segments.append({"type": "text", "data": {"text": text}})


def merge_text(segments: list[Segment]) -> list[Segment]:
    """Adjacent text segments joined into one (implementations split text differently)."""
    merged: list[Segment] = []
    for segment in segments:
        if segment.get("type") == "text":
            _add_text(merged, str((segment.get("data") or {}).get("text", "")))
        else:
            merged.append(segment)
    return merged


def to_cq(segments: list[Segment]) -> str:
    """A segment array as a CQ string (text escaped, parameter values escaped with `,`)."""
    parts: list[str] = []
    for segment in segments:
        data = segment.get("data") or {}
        if segment["type"] == "text":
            parts.append(escape_text(str(data.get("text", ""))))
            continue
        params = "".join(f",{key}={escape_param(str(value))}" for key, value in data.items())
        parts.append(f"[CQ:{segment['type']}{params}]")
    return "".join(parts)


def segments_of(message: Any) -> list[Segment]:
    """An event's `message` in either form (a string, an array, or one segment object) as a
    validated segment array; ValueError names what is wrong."""
    if isinstance(message, str):
        return parse_cq(message)
    if isinstance(message, dict):
        message = [message]
    if not isinstance(message, list):
        raise ValueError("message must be a CQ string or an array of segments")
    segments: list[Segment] = []
    for index, segment in enumerate(message):
        if not isinstance(segment, dict) or not isinstance(segment.get("type"), str):
            raise ValueError(f"message[{index}] must be an object with a string type")
        data = segment.get("data")
        if data is not None and not isinstance(data, dict):
            raise ValueError(f"message[{index}].data must be an object or null")
        segments.append({"type": segment["type"], "data": dict(data or {})})
    return merge_text(segments)
