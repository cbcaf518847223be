"""Every user-facing string has a Chinese translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from qunyun.core.i18n import catalog_ids, gettext, normalize_locale

SRC = Path(__file__).resolve().parents[1] / "src"
KEYWORDS = {name: None for name in ("_", "gettext", "N_", "QunyunError", "InvalidInput",
                                    "NotFound", "Forbidden", "Unauthorized", "Conflict")}
KEYWORDS["add"] = (2,)  # ErrorCollector.add(path, reason)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def extracted() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = extract_from_dir(str(SRC), method_map=method_map, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found if message}


def test_every_message_has_a_chinese_translation() -> None:
    missing = sorted(extracted() - catalog_ids("zh_CN"))
    assert missing == [], "run `make i18n` and translate:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders() -> None:
    for message in extracted():
        translated = gettext(message, "zh_CN")
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(message)), message


def test_locale_names() -> None:
    assert normalize_locale("en-US,en;q=0.9") == "en"
    assert normalize_locale("zh-CN") == normalize_locale(None) == "zh_CN"
    assert gettext("is required", "en") == "is required"
    assert gettext("is required") == "为必填项"
