"""Digest weeks (properties over instants, weekdays, hours and time zones), the post and the
Markdown export as people read them, and the settings' errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.features.highlights.digest import Digest, DigestItem, render_markdown, render_post
from qunyun.features.highlights.plugin import FEATURE
from qunyun.features.highlights.settings import HighlightsSettings
from qunyun.features.highlights.weeks import DigestTime, Week
from qunyun.pipeline.playbook import parse_playbook

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe")
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                        timezones=st.just(UTC))
times = st.builds(DigestTime, st.integers(0, 6), st.integers(0, 23), st.sampled_from(ZONES))


@given(at=instants, time=times)
def test_every_instant_falls_in_the_period_of_its_week(at: datetime, time: DigestTime) -> None:
    week = time.week_of(at)
    start, end = time.period(week)
    assert start <= at < end
    assert timedelta(days=7) - timedelta(hours=1) <= end - start <= timedelta(days=7, hours=1)
    assert time.period(week.shift(1))[0] == end  # weeks follow each other without a gap
    assert Week.parse(week.label) == week


def test_week_labels() -> None:
    assert Week.parse("2026-W47") == Week(2026, 47) == Week.parse(" 2026w47 ")
    assert Week.parse("2026-W53").shift(1) == Week(2027, 1)
    assert str(Week(2026, 5)) == "2026-W05"
    for bad in ("2025-W53", "2026-W00", "2026-47", "last week", ""):
        with pytest.raises(InvalidInput):
            Week.parse(bad)


def digest(*items: DigestItem) -> Digest:
    time = DigestTime(6, 20, "Asia/Shanghai")
    start, end = time.period(Week(2026, 47))
    return Digest("上海一店会员群", Week(2026, 47), start, end, time.timezone, items)


def item(author: str, text: str, day: int = 17, kind: str = "text") -> DigestItem:
    at = datetime(2026, 11, day, 6, 3, tzinfo=UTC)
    return DigestItem(author, None, at, at + timedelta(hours=1), kind, text)


def test_the_post_cuts_long_messages_and_counts() -> None:
    many = digest(item("小王", "很长的分享" * 40), item("Lily", "", kind="image"),
                  *(item(f"成员{i}", f"第 {i} 条\n换行") for i in range(3)))
    post = render_post(many, "en", max_items=3, text_limit=30).split("\n")
    assert post[:2] == ["Highlights of the week · 上海一店会员群",
                        "Nov 15 – Nov 22 · highlights: 5"]
    assert post[3] == "1. 小王 (Nov 17)"
    assert len(post[4]) == 30 and post[4].endswith("…")
    assert post[6:8] == ["2. Lily (Nov 17)", "[image]"]
    assert post[9:] == ["3. 成员0 (Nov 17)", "第 0 条 换行", "", "… and 2 more"]
    assert "11月17日" in render_post(many, "zh_CN", max_items=3, text_limit=30)


def test_the_markdown_export_keeps_every_message_whole() -> None:
    text = render_markdown(digest(item("小王", "第一行\n<b>第二行</b>"), item("Lily", "短")),
                           "en")
    assert text.splitlines() == [
        "# Highlights of the week · 上海一店会员群", "",
        "2026-W47: 2026-11-15 20:00 – 2026-11-22 20:00 (Asia/Shanghai) · highlights: 2", "",
        "## 1. 小王 · 2026-11-17 14:03", "", "> 第一行  ", "> &lt;b&gt;第二行&lt;/b&gt;", "",
        "## 2. Lily · 2026-11-17 14:03", "", "> 短"]
    assert "No highlights this week." in render_markdown(digest(), "en")


@pytest.mark.parametrize(("table", "path", "reason"), [
    ('allowed_roles = ["owner", "boss"]', "allowed_roles", "unknown role boss"),
    ('keywords = ["设 精华"]', "keywords", "a keyword is one word without spaces"),
    ('keywords = []', "keywords", "at least 1"),
    ('unmark_keywords = ["精华"]', "", "a word cannot both mark and unmark: 精华"),
    ("digest_weekday = 7", "digest_weekday", "must be at most 6"),
    ("digest_hour = -1", "digest_hour", "must not be negative"),
    ('digest_hour = "20"', "digest_hour", ""),
    ("colour = 1", "colour", ""),
])
def test_bad_settings_name_the_key(table: str, path: str, reason: str) -> None:
    text = f'version = 1\nname = "x"\n[features.highlights]\nenabled = true\n{table}\n'
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(text, FeatureRegistry([FEATURE]))
    [error] = caught.value.errors
    assert error.path == ".".join(p for p in ("features.highlights", path) if p)
    assert reason in error.render("en")


def test_usage_lines_follow_the_settings() -> None:
    assert FEATURE.usage is not None
    settings = HighlightsSettings(enabled=True, keywords=["加精"], allowed_roles=["owner"],
                                  digest_weekday=4, digest_hour=9)
    assert FEATURE.usage(settings, "en") == [
        "Reply to a message with “加精” to keep it as a highlight (Group owner)",
        "Reply to a highlight with “取消精华” to remove it",
        "Every Friday at 09:00 the week's highlights are posted here"]
    quiet = HighlightsSettings(enabled=True, digest_in_group=False)
    assert len(FEATURE.usage(quiet, "zh_CN")) == 2
