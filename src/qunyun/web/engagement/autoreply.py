"""Auto-replies and FAQ: the rules in effect for a group (read-only, with the layer they come
from: a group's settings page edits them), the community's FAQ with hit counts, adding, editing
and disabling entries, the questions nobody answered (most asked first), and a box to try what
the bot would answer.

Seeing needs VIEW on a group of the community; changing the FAQ needs CONFIGURE and the whole
community in scope (it answers in all its groups). Changes carry the CSRF token and are audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import CONFIGURE, VIEW, Principal
from qunyun.community.models import Community, Group
from qunyun.community.settings import COMMUNITY_SECTION
from qunyun.core.errors import Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.autoreply.answers import FaqOutcome, consult_faq
from qunyun.features.autoreply.faq_search import is_question, query_terms
from qunyun.features.autoreply.matching import compiled_rules, render_reply
from qunyun.features.autoreply.service import (
    check_faq_input,
    do_create_entry,
    do_dismiss_unanswered,
    do_set_entry_enabled,
    do_update_entry,
    get_entry,
    get_unanswered,
    list_entries,
    list_unanswered,
    load_faq,
)
from qunyun.features.autoreply.settings import AutoreplySettings, Rule
from qunyun.pipeline.playbook import describe_settings
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Auto-replies and FAQ")
DESCRIPTION = N_("Keyword replies in effect per group, the FAQ knowledge base with hit counts, "
                 "and the questions members asked that nobody answered yet.")
BASE = "/engagement/autoreply"
FEATURE = "autoreply"


@dataclass(slots=True)
class FaqForm:
    """The add/edit form as typed, with what is wrong with it (by field)."""

    question: str = ""
    alternatives: str = ""
    answer: str = ""
    entry_id: int | None = None  # editing this entry
    for_question: int | None = None  # answering this unanswered question
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Trial:
    """What the bot would answer a typed message in the chosen group."""

    text: str
    rule: Rule | None
    reply: str | None
    question: bool
    faq: FaqOutcome | None


# --- who sees what ----------------------------------------------------------------------------

async def visible_communities(session: AsyncSession, principal: Principal) -> list[Community]:
    """Communities with a group the principal may see (all of them for the whole org)."""
    query = select(Community).where(Community.org_id == principal.org_id)
    if not principal.scope.whole_org:
        query = query.where(Community.id.in_(select(Group.community_id)
                                             .where(principal.group_clause())))
    return list(await session.scalars(query.order_by(Community.name, Community.id)))


def may_edit(principal: Principal, community_id: int) -> bool:
    scope = principal.scope
    return principal.can(CONFIGURE) and (scope.whole_org or community_id in scope.communities)


async def access_community(session: AsyncSession, principal: Principal, community_id: int,
                           permission: str = VIEW) -> Community:
    community = await session.get(Community, community_id)
    if community is None or community.org_id != principal.org_id:
        raise NotFound(N_("no such community: {id}"), id=community_id)
    if permission == CONFIGURE:
        principal.require(CONFIGURE)
        if not may_edit(principal, community_id):
            raise Forbidden(N_("this community is outside your scope"))
    elif community.id not in {c.id for c in await visible_communities(session, principal)}:
        raise Forbidden(N_("this community is outside your scope"))
    return community


# --- the page -----------------------------------------------------------------------------------

def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip().isdigit() else None


async def _settings_of(session: AsyncSession, runtime: Runtime,
                       group: Group) -> tuple[AutoreplySettings, dict[str, str], str]:
    """The group's effective autoreply settings, the layer each key comes from, the group's
    time zone."""
    sections = await describe_settings(session, runtime.registry, group_id=group.id)
    described = sections.get(FEATURE, {})
    timezone = str(sections[COMMUNITY_SECTION]["timezone"]["value"])
    values = {key: item["value"] for key, item in described.items()}
    try:
        settings = AutoreplySettings.model_validate(values)
    except ValidationError:
        settings = AutoreplySettings()  # as the pipeline does: never fail on stored layers
    return settings, {key: item["source"] for key, item in described.items()}, timezone


async def _try(session: AsyncSession, settings: AutoreplySettings, group: Group,
               message: str, viewer: Viewer, timezone: str) -> Trial:
    rule = compiled_rules(settings).match(message)
    if rule is not None:
        reply = render_reply(rule.reply, name=viewer.principal.actor.split(":", 1)[-1],
                             group=group.name, at=viewer.now, timezone=timezone)
        return Trial(message, rule, reply, False, None)
    asked = is_question(message, bot_names=settings.bot_names)
    outcome = None
    if settings.faq and group.community_id is not None:
        outcome = consult_faq(await load_faq(session, group.community_id), settings,
                              query_terms(message))
    answer = outcome.reply(viewer.locale) if outcome is not None and asked else None
    return Trial(message, None, answer, asked, outcome)


async def _page(request: Request, viewer: Viewer, session: AsyncSession, runtime: Runtime, *,
                community_id: int | None = None, group_id: int | None = None,
                form: FaqForm | None = None, status: int = 200) -> HTMLResponse:
    params = request.query_params
    communities = await visible_communities(session, viewer.principal)
    if not communities:
        return render_page(request, viewer, "engagement/autoreply/page.html",
                           {"communities": [], "community": None})
    wanted = community_id or _int(params.get("community"))
    community = next((c for c in communities if c.id == wanted), communities[0])
    groups = list(await session.scalars(
        select(Group).where(viewer.principal.group_clause(), Group.community_id == community.id)
        .order_by(Group.name, Group.id)))
    wanted = group_id or _int(params.get("group"))
    group = next((g for g in groups if g.id == wanted), groups[0] if groups else None)
    context: dict[str, Any] = {
        "communities": communities, "community": community, "groups": groups, "group": group,
        "editable": may_edit(viewer.principal, community.id),
        "entries": await list_entries(session, community_id=community.id),
        "unanswered": await list_unanswered(session, community_id=community.id),
        "group_names": {g.id: g.name for g in groups},  # only the ones the viewer may see
        "form": form or await _form_from_query(session, viewer, params),
        "saved": params.get("saved"), "trial": None, "settings": None, "sources": {},
        "base": BASE, "here": f"{BASE}?{urlencode(_where(community.id, group))}",
    }
    if group is not None:
        settings, sources, timezone = await _settings_of(session, runtime, group)
        context.update(settings=settings, sources=sources)
        message = (params.get("q") or "").strip()[:500]
        if message:
            context["trial"] = await _try(session, settings, group, message, viewer, timezone)
    return render_page(request, viewer, "engagement/autoreply/page.html", context,
                       status_code=status)


def _where(community_id: int, group: Group | int | None) -> dict[str, int]:
    where = {"community": community_id}
    group_id = group.id if isinstance(group, Group) else group
    if group_id is not None:
        where["group"] = group_id
    return where


async def _form_from_query(session: AsyncSession, viewer: Viewer,
                           params: Any) -> FaqForm:
    """?edit=<entry> fills the form with an entry; ?answer=<question> with an unanswered one."""
    org_id = viewer.principal.org_id
    if (entry_id := _int(params.get("edit"))) is not None:
        entry = await get_entry(session, org_id=org_id, entry_id=entry_id)
        return FaqForm(entry.question, "\n".join(entry.alternatives), entry.answer, entry.id)
    if (question_id := _int(params.get("answer"))) is not None:
        question = await get_unanswered(session, org_id=org_id, question_id=question_id)
        return FaqForm(question=question.text, for_question=question.id)
    return FaqForm()


@router.get(BASE, response_class=HTMLResponse)
async def autoreply_page(request: Request, viewer: ViewerDep, session: SessionDep,
                         runtime: RuntimeDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _page(request, viewer, session, runtime)


# --- changes --------------------------------------------------------------------------------

async def _submitted(request: Request) -> tuple[FaqForm, int | None, int | None]:
    submitted = await request.form()
    form = FaqForm(text(submitted, "question"), text(submitted, "alternatives"),
                   text(submitted, "answer"), _int(text(submitted, "entry_id")),
                   _int(text(submitted, "for_question")))
    return form, _int(text(submitted, "community")), _int(text(submitted, "group"))


def _back(community_id: int, group_id: int | None, saved: str) -> RedirectResponse:
    where = {**_where(community_id, group_id), "saved": saved}
    return RedirectResponse(f"{BASE}?{urlencode(where)}#faq", status_code=303)


@router.post(f"{BASE}/faq", response_class=HTMLResponse)
async def save_entry(request: Request, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    """Add an entry, or (with `entry_id`) change one."""
    principal = viewer.principal
    form, community_id, group_id = await _submitted(request)
    if form.entry_id is not None:
        community_id = (await get_entry(session, org_id=principal.org_id,
                                        entry_id=form.entry_id)).community_id
    if community_id is None:
        raise NotFound(N_("no such community: {id}"), id="")
    await access_community(session, principal, community_id, CONFIGURE)
    try:
        data = check_faq_input(question=form.question, alternatives=form.alternatives,
                               answer=form.answer)
    except InvalidInput as exc:
        form.errors = field_messages(exc, viewer.locale)
        return await _page(request, viewer, session, runtime, community_id=community_id,
                           group_id=group_id, form=form, status=422)
    now = runtime.clock.now()
    if form.entry_id is None:
        await do_create_entry(session, principal=principal, community_id=community_id,
                              data=data, at=now, for_question=form.for_question)
    else:
        await do_update_entry(session, principal=principal, entry_id=form.entry_id, data=data,
                              at=now)
    await session.commit()
    return _back(community_id, group_id, "faq")


async def _set_enabled(request: Request, viewer: Viewer, session: AsyncSession,
                       runtime: Runtime, entry_id: int, enabled: bool) -> Response:
    entry = await get_entry(session, org_id=viewer.principal.org_id, entry_id=entry_id)
    await access_community(session, viewer.principal, entry.community_id, CONFIGURE)
    await do_set_entry_enabled(session, principal=viewer.principal, entry_id=entry.id,
                               enabled=enabled, at=runtime.clock.now())
    await session.commit()
    _, _, group_id = await _submitted(request)
    return _back(entry.community_id, group_id, "faq")


@router.post(BASE + "/faq/{entry_id}/disable", response_class=HTMLResponse)
async def disable_entry(entry_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                        runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    return await _set_enabled(request, viewer, session, runtime, entry_id, False)


@router.post(BASE + "/faq/{entry_id}/enable", response_class=HTMLResponse)
async def enable_entry(entry_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    return await _set_enabled(request, viewer, session, runtime, entry_id, True)


@router.post(BASE + "/unanswered/{question_id}/dismiss", response_class=HTMLResponse)
async def dismiss_question(question_id: int, request: Request, viewer: ViewerDep,
                           session: SessionDep, runtime: RuntimeDep,
                           _csrf: VerifiedCsrf) -> Response:
    question = await get_unanswered(session, org_id=viewer.principal.org_id,
                                    question_id=question_id)
    await access_community(session, viewer.principal, question.community_id, CONFIGURE)
    await do_dismiss_unanswered(session, principal=viewer.principal, question_id=question.id,
                                at=runtime.clock.now())
    await session.commit()
    _, _, group_id = await _submitted(request)
    return _back(question.community_id, group_id, "dismissed")
