"""The weekly digest: the highlights a week holds, as a chat post and as Markdown.

A week's digest lists the highlights marked in its period (see `weeks`) that are still
highlights (not unmarked since), oldest first. The post cuts long messages; the exports keep
them whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_skeleton
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.clock import zone
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_, gettext, normalize_locale
from qunyun.features.highlights.service import highlights_between
from qunyun.features.highlights.settings import HighlightsSettings, digest_time
from qunyun.features.highlights.weeks import DigestTime, Week

DIGEST_JOB = "digest"
KIND_LABELS = {"image": N_("[image]"), "voice": N_("[voice]"), "video": N_("[video]"),
               "link": N_("[link]"), "file": N_("[file]"), "sticker": N_("[sticker]"),
               "card": N_("[card]"), "other": N_("[message]")}


@dataclass(frozen=True, slots=True)
class DigestItem:
    author: str
    author_person_id: int | None
    posted_at: datetime
    marked_at: datetime
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Digest:
    group: str  # the group's name
    week: Week
    start: datetime
    end: datetime
    timezone: str
    items: tuple[DigestItem, ...]

    def local(self, at: datetime) -> datetime:
        return at.astimezone(zone(self.timezone))


async def build_digest(session: AsyncSession, *, group_id: int, group_name: str, week: Week,
                       time: DigestTime) -> Digest:
    start, end = time.period(week)
    rows = await highlights_between(session, group_id=group_id, start=start, end=end)
    items = tuple(DigestItem(r.author_name, r.author_person_id, r.posted_at, r.marked_at, r.kind,
                             r.text) for r in rows)
    return Digest(group_name, week, start, end, time.timezone, items)


def digest_key(group_id: int, week: Week) -> str:
    return f"digest:{group_id}:{week.label}"


def digest_job(settings: HighlightsSettings, timezone: str, group_id: int,
               after: datetime, *, at_least: Week | None = None) -> JobRequest | None:
    """The job that posts the digest covering `after` (or of `at_least`, if later); one per
    group and week however often it is asked for. None when digests are not posted."""
    if not settings.enabled or not settings.digest_in_group:
        return None
    time = digest_time(settings, timezone)
    week = time.week_of(after)
    if at_least is not None and at_least > week:
        week = at_least
    return JobRequest(DIGEST_JOB, time.moment(week), {"week": week.label},
                      digest_key(group_id, week))


# --- rendering ---------------------------------------------------------------------------

def message_text(item: DigestItem, locale: str, limit: int | None = None) -> str:
    """What a highlight says: its text (cut to `limit` characters, on one line), with a label
    for anything but plain text."""
    text = " ".join(item.text.split()) if limit is not None else item.text.strip()
    if limit is not None and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    label = KIND_LABELS.get(item.kind)
    if label is None:
        return text
    return f"{gettext(label, locale)} {text}".strip()


def short_date(at: datetime, digest: Digest, locale: str) -> str:
    """11月17日 / Nov 17, in the group's time zone."""
    return format_skeleton("MMMd", digest.local(at), locale=normalize_locale(locale))


def period_text(digest: Digest, locale: str) -> str:
    return gettext("{start} – {end}", locale, start=short_date(digest.start, digest, locale),
                   end=short_date(digest.end, digest, locale))


def render_post(digest: Digest, locale: str, *, max_items: int, text_limit: int) -> str:
    """The digest as one chat message."""
    lines = [gettext("Highlights of the week · {group}", locale, group=digest.group),
             gettext("{period} · highlights: {n}", locale, period=period_text(digest, locale),
                     n=len(digest.items))]
    for index, item in enumerate(digest.items[:max_items], 1):
        lines += ["", gettext("{index}. {author} ({date})", locale, index=index,
                              author=item.author, date=short_date(item.posted_at, digest,
                                                                  locale)),
                  message_text(item, locale, text_limit)]
    rest = len(digest.items) - max_items
    if rest > 0:
        lines += ["", gettext("… and {n} more", locale, n=rest)]
    return "\n".join(lines)


def render_markdown(digest: Digest, locale: str) -> str:
    """The digest as a Markdown document, every message whole."""
    stamp = "%Y-%m-%d %H:%M"
    lines = [f"# {gettext('Highlights of the week · {group}', locale, group=digest.group)}",
             "",
             gettext("{week}: {start} – {end} ({timezone}) · highlights: {n}", locale,
                     week=digest.week.label, start=digest.local(digest.start).strftime(stamp),
                     end=digest.local(digest.end).strftime(stamp), timezone=digest.timezone,
                     n=len(digest.items))]
    if not digest.items:
        lines += ["", gettext("No highlights this week.", locale)]
    for index, item in enumerate(digest.items, 1):
        lines += ["", f"## {index}. {item.author} · {digest.local(item.posted_at).strftime(stamp)}",
                  ""]
        quoted = [f"> {line}".rstrip() for line in _markdown_safe(
            message_text(item, locale)).splitlines()] or [">"]
        # Two trailing spaces: a hard line break, so the message keeps its lines.
        lines += [line + "  " for line in quoted[:-1]] + quoted[-1:]
    return "\n".join(lines) + "\n"


def _markdown_safe(text: str) -> str:
    """Members' text as Markdown shows it, without raw HTML a renderer would run."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
