"""Highlights (群精华) on the dashboard: for a visible group, its recent messages to mark, its
highlights (with the unmarked ones as history), and the weekly digest of any past week with its
Markdown and standalone HTML downloads.

Marking and unmarking need the ACT permission on the group and the CSRF token; both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Person
from qunyun.core.errors import FieldError, InvalidInput
from qunyun.core.events import MESSAGE_POSTED
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_, gettext
from qunyun.features.highlights.digest import (
    Digest,
    build_digest,
    digest_job,
    message_text,
    period_text,
    render_markdown,
    render_post,
)
from qunyun.features.highlights.effective import GroupHighlightsSettings, group_highlights_settings
from qunyun.features.highlights.models import Highlight
from qunyun.features.highlights.plugin import FEATURE
from qunyun.features.highlights.service import (
    BY_MEMBER,
    do_mark,
    do_unmark,
    list_highlights,
    marked_messages,
)
from qunyun.features.highlights.settings import WEEKDAYS
from qunyun.features.highlights.weeks import Week
from qunyun.pipeline.messages import message_finder
from qunyun.pipeline.models import EventRecord
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.templating import environment, translator
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Highlights")
DESCRIPTION = N_("Keep the best messages of each group and send the group a weekly digest.")
PAGE = "/engagement/highlights"
RECENT_MESSAGES = 30
WEEKS_TO_PICK = 12
FORMATS = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class RecentMessage:
    message_id: str
    at: datetime
    person_id: int | None
    author: str
    kind: str
    text: str
    marked: bool


async def visible_groups(session: AsyncSession, principal: Principal) -> list[tuple[int, str]]:
    rows = await session.execute(select(Group.id, Group.name).where(principal.group_clause())
                                 .order_by(Group.name, Group.id))
    return [(gid, name) for gid, name in rows]


async def recent_messages(session: AsyncSession, group_id: int,
                          limit: int = RECENT_MESSAGES) -> list[RecentMessage]:
    """The group's latest posted messages from the event log, newest first."""
    rows = (await session.execute(
        select(EventRecord.message_ref, EventRecord.at, EventRecord.person_id,
               Person.display_name, EventRecord.body)
        .outerjoin(Person, Person.id == EventRecord.person_id)
        .where(EventRecord.group_id == group_id, EventRecord.type == MESSAGE_POSTED)
        .order_by(EventRecord.seq.desc()).limit(limit))).all()
    marked = await marked_messages(session, group_id=group_id,
                                   message_ids=[r.message_ref for r in rows if r.message_ref])
    messages = []
    for ref, at, person_id, person_name, body in rows:
        event = orjson.loads(body)
        data = event.get("data") or {}
        messages.append(RecentMessage(
            str(ref), at, person_id, data.get("name") or person_name or event.get("member", ""),
            data.get("kind", "text"), str(data.get("text", "")), ref in marked))
    return messages


def _week(raw: str | None, current: Week) -> Week:
    if not raw:
        return current
    try:
        return Week.parse(raw)
    except InvalidInput as exc:
        raise InvalidInput("the address of this page is not valid",
                           errors=[FieldError("week", exc.message, tuple(exc.params.items()))]
                           ) from exc


def _group_param(raw: str | None, groups: list[tuple[int, str]]) -> int:
    if raw and raw.isdigit():
        return int(raw)
    if raw:
        raise InvalidInput("the address of this page is not valid",
                           errors=[FieldError("group", N_("must be a group number"))])
    return groups[0][0]


def digest_view(digest: Digest, locale: str) -> dict[str, Any]:
    """The digest as the page and the HTML export show it, in `locale`."""
    return {
        "title": gettext("Highlights of the week · {group}", locale, group=digest.group),
        "period": period_text(digest, locale), "week": digest.week.label,
        "count": gettext("highlights: {n}", locale, n=len(digest.items)),
        "timezone": digest.timezone,
        "items": [{"author": item.author, "person_id": item.author_person_id,
                   "posted": digest.local(item.posted_at).strftime("%Y-%m-%d %H:%M"),
                   "posted_iso": item.posted_at.isoformat(), "text": message_text(item, locale)}
                  for item in digest.items],
    }


def digest_html(env: Environment, digest: Digest, locale: str) -> str:
    """The digest as a standalone HTML file (inline style, nothing to load)."""
    template = env.get_template("engagement/highlights/export.html")
    return template.render(digest=digest_view(digest, locale), locale=locale,
                           _=translator(locale))


def _schedule_text(cfg: GroupHighlightsSettings, locale: str) -> str:
    settings = cfg.settings
    if not settings.enabled or not settings.digest_in_group:
        return gettext("The digest is not posted in the group.", locale)
    return gettext("Posted in the group every {weekday} at {hour}:00 ({timezone}).", locale,
                   weekday=gettext(WEEKDAYS[settings.digest_weekday], locale),
                   hour=f"{settings.digest_hour:02d}", timezone=cfg.timezone)


async def _marked_by_names(session: AsyncSession, rows: list[Highlight]) -> dict[int, str]:
    ids = sorted({r.marked_by_person_id for r in rows if r.marked_by_person_id is not None})
    if not ids:
        return {}
    found = await session.execute(select(Person.id, Person.display_name)
                                  .where(Person.id.in_(ids)))
    return {pid: name for pid, name in found}


@router.get(PAGE, response_class=HTMLResponse)
async def highlights_page(request: Request, viewer: ViewerDep,
                          session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    groups = await visible_groups(session, viewer.principal)
    if not groups:
        return render_page(request, viewer, "engagement/highlights/page.html", {"groups": []})
    group = await access_group(session, viewer.principal,
                               _group_param(request.query_params.get("group"), groups), VIEW)
    cfg = await group_highlights_settings(session, group)
    current = cfg.time.week_of(viewer.now)
    week = _week(request.query_params.get("week"), current)
    digest = await build_digest(session, group_id=group.id, group_name=group.name, week=week,
                                time=cfg.time)
    rows = await list_highlights(session, group_id=group.id)
    weeks = [current.shift(-n) for n in range(WEEKS_TO_PICK)]
    if week not in weeks:
        weeks.append(week)
    return render_page(request, viewer, "engagement/highlights/page.html", {
        "groups": groups, "group": group, "settings": cfg.settings, "week": week,
        "weeks": [(w.label, period_text(_empty(digest, w, cfg), viewer.locale)) for w in weeks],
        "previous": week.shift(-1).label, "next": week.shift(1).label if week < current else None,
        "digest": digest_view(digest, viewer.locale),
        "post": render_post(digest, cfg.language, max_items=cfg.settings.digest_max_items,
                            text_limit=cfg.settings.text_limit) if digest.items else "",
        "schedule": _schedule_text(cfg, viewer.locale),
        "highlights": rows, "marked_by": await _marked_by_names(session, rows),
        "member_marker": BY_MEMBER, "messages": await recent_messages(session, group.id),
        "timezone": cfg.timezone, "can_act": viewer.principal.can(ACT),
        "saved": request.query_params.get("saved")})


def _empty(digest: Digest, week: Week, cfg: GroupHighlightsSettings) -> Digest:
    """A digest of `week` with no items: enough to name its period."""
    start, end = cfg.time.period(week)
    return Digest(digest.group, week, start, end, cfg.timezone, ())


@router.get(PAGE + "/{group_id}/export")
async def export_digest(group_id: int, request: Request, viewer: ViewerDep,
                        session: SessionDep) -> Response:
    """The digest of a week as a file: `format=md` (Markdown) or `format=html` (standalone)."""
    group = await access_group(session, viewer.principal, group_id, VIEW)
    kind = request.query_params.get("format", "md")
    if kind not in FORMATS:
        raise InvalidInput("the address of this page is not valid", errors=[FieldError(
            "format", N_("must be one of: {choices}"), (("choices", ", ".join(FORMATS)),))])
    cfg = await group_highlights_settings(session, group)
    week = _week(request.query_params.get("week"), cfg.time.week_of(viewer.now))
    digest = await build_digest(session, group_id=group.id, group_name=group.name, week=week,
                                time=cfg.time)
    body = render_markdown(digest, cfg.language) if kind == "md" else \
        digest_html(environment(request), digest, cfg.language)
    filename = f"highlights-{group.id}-{week.label}.{kind}"
    return Response(body, media_type=FORMATS[kind],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _message_id(request: Request) -> str:
    value = (await request.form()).get("message_id")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("the form is not valid",
                           errors=[FieldError("message_id", N_("is required"))])
    return value.strip()


@router.post(PAGE + "/{group_id}/mark")
async def mark_message(group_id: int, request: Request, viewer: ViewerDep, runtime: RuntimeDep,
                       _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    message_id = await _message_id(request)
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        group = await access_group(session, principal, group_id, ACT)
        message = await message_finder(session, [], 0, group.id)(message_id)
        if message is None:
            raise InvalidInput("the form is not valid", errors=[FieldError(
                "message_id", N_("no message {id} in this group"), (("id", message_id),))])
        marked = await do_mark(session, org_id=group.org_id, group_id=group.id,
                               message=message, by=principal.actor, at=now)
        if marked.created:
            row = marked.highlight
            await do_record(session, principal=principal, action="highlight.mark",
                            target_type="highlight", target_id=row.id, before=None,
                            after={"group_id": group.id, "message_id": row.message_id,
                                   "author": row.author_name, "text": row.text[:200]}, at=now)
            cfg = await group_highlights_settings(session, group)
            job = digest_job(cfg.settings, cfg.timezone, group.id, now)
            if job is not None:
                await _schedule(session, runtime, group, job, principal.actor)
        await session.commit()
    runtime.pipeline.scheduler.forget()  # it may have read the earliest due time before this
    return RedirectResponse(f"{PAGE}?group={group.id}&saved=marked#highlights", 303)


async def _schedule(session: AsyncSession, runtime: Runtime, group: Group, job: JobRequest,
                    actor: str) -> None:
    try:
        async with session.begin_nested():
            await runtime.pipeline.scheduler.add(session, org_id=group.org_id, group_id=group.id,
                                                 feature=FEATURE.name, request=job,
                                                 caused_by=actor)
    except IntegrityError:
        pass  # the pipeline scheduled the same digest at the same moment


@router.post(PAGE + "/{group_id}/unmark")
async def unmark_message(group_id: int, request: Request, viewer: ViewerDep,
                         runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    message_id = await _message_id(request)
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        group = await access_group(session, principal, group_id, ACT)
        row = await do_unmark(session, group_id=group.id, message_id=message_id,
                              by=principal.actor, at=now)
        if row is not None:
            await do_record(session, principal=principal, action="highlight.unmark",
                            target_type="highlight", target_id=row.id,
                            before={"marked_at": row.marked_at.isoformat(), "unmarked_at": None},
                            after={"unmarked_at": now.isoformat(),
                                   "unmarked_by": principal.actor}, at=now)
        await session.commit()
    return RedirectResponse(f"{PAGE}?group={group.id}&saved=unmarked#highlights", 303)
