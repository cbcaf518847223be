"""The rule editor (群规设置): a group's or a community's moderation settings as TOML (the
`[features.moderation]` table of a playbook), checked with key paths, tried on the last days of
history (what it would have caught, message by message) before it is saved, with each rule's
hits and measured precision.

Seeing and trying need VIEW; saving needs CONFIGURE on the group (or the whole community in
scope), carries the CSRF token, is audited, and writes the settings layer of that scope like a
group's settings page does. A saved change to the modes is switched in the chat at once: a
moderation job due now per group.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.app.moderation_dryrun import DryRunReport, dry_run
from qunyun.community.access import CONFIGURE, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Community, Group, SettingsLayer
from qunyun.community.settings import GroupScope, load_layers, merge
from qunyun.core.config import pydantic_errors
from qunyun.core.errors import ErrorCollector, FieldError, Forbidden, InvalidInput, NotFound
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_
from qunyun.features.moderation.modes import MODE_SYNC
from qunyun.features.moderation.queries import CaseFilter, rule_stats
from qunyun.features.moderation.rules import RULE_LABELS
from qunyun.features.moderation.settings import ModerationSettings
from qunyun.pipeline.playbook import do_set_layer_values
from qunyun.pipeline.playbook.sections import validate_layer
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Rule editor")
DESCRIPTION = N_("A group's or community's rules as TOML: checked with key paths and tried on "
                 "the last days of history before they are saved.")
BASE = "/moderation/rules"
HREF = BASE
FEATURE = "moderation"
PATH = "features.moderation"
DEFAULT_DAYS = 30
SHOWN_HITS = 200
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(slots=True)
class Editor:
    """The editor's state: which layer, the text, what is wrong, what the dry run found."""

    scope: str  # "group" or "community"
    scope_id: int
    source: str
    days: int = DEFAULT_DAYS
    errors: list[FieldError] = field(default_factory=list)
    report: DryRunReport | None = None


# --- TOML text of a layer document ------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        items = [_toml_value(v) for v in value]
        if sum(len(i) for i in items) <= 60:
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(f"  {i},\n" for i in items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_key(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(values: dict[str, Any], prefix: str = PATH) -> str:
    """A document as a TOML table `[prefix]` with its sub-tables."""
    lines = [f"[{prefix}]"]
    nested: list[str] = []
    for key, value in values.items():
        name = f"{prefix}.{_toml_key(key)}"
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()) \
                and key == "word_lists":
            for sub, table in value.items():
                nested.append(to_toml(table, f"{name}.{_toml_key(sub)}"))
        elif isinstance(value, dict) and value:
            nested.append(to_toml(value, name))
        elif _is_tables(value):
            for table in value:
                body = to_toml(table, name).split("\n", 1)[1]
                nested.append(f"[[{name}]]\n{body}")
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n\n".join(["\n".join(lines), *nested]) + "\n"


def parse_source(source: str) -> dict[str, Any]:
    """The table the editor holds: `[features.moderation]` or bare keys; InvalidInput."""
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(N_("the rules are not valid TOML: {reason}"), reason=str(exc)) from exc
    features = document.get("features")
    if isinstance(features, dict):
        table = features.get(FEATURE, {})
        if not isinstance(table, dict):
            raise InvalidInput("{path}: [features.moderation] must be a table", path=PATH)
        return table
    return document


# --- scopes -----------------------------------------------------------------------------------

async def _scope_groups(session: AsyncSession, principal: Principal, scope: str,
                        scope_id: int, permission: str) -> list[Group]:
    if scope == "group":
        return [await access_group(session, principal, scope_id, permission)]
    community = await session.get(Community, scope_id)
    if community is None or community.org_id != principal.org_id:
        raise NotFound(N_("no such community: {id}"), id=scope_id)
    principal.require(permission)
    if permission == CONFIGURE and not (principal.scope.whole_org
                                        or scope_id in principal.scope.communities):
        raise Forbidden(N_("this community is outside your scope"))
    groups = list(await session.scalars(select(Group).where(
        Group.org_id == principal.org_id, Group.community_id == scope_id,
        principal.group_clause()).order_by(Group.id)))
    if not groups and permission == VIEW:
        raise Forbidden(N_("this community is outside your scope"))
    return groups


def _parse_scope(raw: str | None) -> tuple[str, int] | None:
    kind, _, number = (raw or "").partition(":")
    if kind in ("group", "community") and number.isdigit():
        return kind, int(number)
    return None


async def _layer(session: AsyncSession, org_id: int, scope: str, scope_id: int
                 ) -> dict[str, Any]:
    values = await session.scalar(select(SettingsLayer.values).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == scope,
        SettingsLayer.scope_id == scope_id, SettingsLayer.feature == FEATURE))
    return dict(values or {})


async def _effective(session: AsyncSession, runtime: Runtime, groups: list[Group], *,
                     scope: str, scope_id: int, document: dict[str, Any]
                     ) -> dict[int, ModerationSettings]:
    """Each group's rules with `document` as the layer of the scope (switched on)."""
    feature = runtime.registry.get(FEATURE)
    defaults = (feature.default_settings() if feature else ModerationSettings()).model_dump()
    found: dict[int, ModerationSettings] = {}
    layers_by_org: dict[int, Any] = {}
    for group in groups:
        if group.org_id not in layers_by_org:
            layers = await load_layers(session, group.org_id)
            layers[(scope, scope_id, FEATURE)] = document
            layers_by_org[group.org_id] = layers
        values = merge(defaults, layers_by_org[group.org_id],
                       GroupScope(group.org_id, group.community_id, group.playbook_id,
                                  group.id), FEATURE).values
        found[group.id] = ModerationSettings.model_validate({**values, "enabled": True})
    return found


# --- pages ------------------------------------------------------------------------------------

async def _choices(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    groups = list(await session.scalars(select(Group).where(
        Group.org_id == principal.org_id, principal.group_clause())
        .order_by(Group.name, Group.id)))
    ids = {g.community_id for g in groups if g.community_id is not None}
    communities = list(await session.scalars(select(Community).where(
        Community.org_id == principal.org_id, Community.id.in_(ids))
        .order_by(Community.name, Community.id))) if ids else []
    return {"groups": groups, "communities": communities}


async def _render(request: Request, viewer: Viewer, session: AsyncSession, editor: Editor,
                  *, status: int = 200, saved: bool = False) -> HTMLResponse:
    principal = viewer.principal
    groups = await _scope_groups(session, principal, editor.scope, editor.scope_id, VIEW)
    filters = CaseFilter(group_id=editor.scope_id if editor.scope == "group" else None,
                         since=viewer.now - timedelta(days=30))
    hits = editor.report.hits[:SHOWN_HITS] if editor.report else []
    return render_page(request, viewer, "moderation/rules.html", {
        **await _choices(session, principal), "editor": editor, "base": BASE,
        "scope_key": f"{editor.scope}:{editor.scope_id}", "scope_groups": groups,
        "group_names": {g.id: g.name or g.platform_id for g in groups},
        "stats": await rule_stats(session, principal=principal, filters=filters),
        "rule_labels": RULE_LABELS, "hits": hits, "saved": saved,
        "may_save": principal.can(CONFIGURE)}, status_code=status)


@router.get(BASE, response_class=HTMLResponse)
async def rules_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    chosen = _parse_scope(request.query_params.get("scope"))
    if chosen is None:
        choices = await _choices(session, viewer.principal)
        if not choices["groups"]:
            return render_page(request, viewer, "moderation/rules.html",
                               {**choices, "editor": None, "base": BASE})
        chosen = ("group", choices["groups"][0].id)
    scope, scope_id = chosen
    await _scope_groups(session, viewer.principal, scope, scope_id, VIEW)
    source = to_toml(await _layer(session, viewer.principal.org_id, scope, scope_id))
    return await _render(request, viewer, session, Editor(scope, scope_id, source),
                         saved=request.query_params.get("saved") == "1")


async def _read(request: Request) -> Editor:
    form = await request.form()
    chosen = _parse_scope(text(form, "scope"))
    if chosen is None:
        raise InvalidInput(N_("choose a group or a community"))
    days_raw = text(form, "days").strip()
    days = int(days_raw) if days_raw.isdigit() else DEFAULT_DAYS
    return Editor(chosen[0], chosen[1], text(form, "source"), max(1, min(days, 365)))


def _check(editor: Editor) -> dict[str, Any] | None:
    """The validated layer document, or None with `editor.errors` filled (key paths)."""
    try:
        document = parse_source(editor.source)
    except InvalidInput as exc:
        editor.errors = _problems(exc)
        return None
    errors = ErrorCollector()
    stored = validate_layer(ModerationSettings, document, PATH, errors)
    if errors or stored is None:
        editor.errors = errors.errors
        return None
    return stored


def _problems(exc: InvalidInput) -> list[FieldError]:
    return exc.errors or [FieldError("", exc.message, tuple(sorted(exc.params.items())))]


@router.post(BASE + "/try", response_class=HTMLResponse)
async def try_rules(request: Request, viewer: ViewerDep, session: SessionDep,
                    runtime: RuntimeDep, _csrf: VerifiedCsrf) -> HTMLResponse:
    viewer.principal.require(VIEW)
    editor = await _read(request)
    groups = await _scope_groups(session, viewer.principal, editor.scope, editor.scope_id, VIEW)
    document = _check(editor)
    if document is None:
        return await _render(request, viewer, session, editor, status=422)
    try:
        settings = await _effective(session, runtime, groups, scope=editor.scope,
                                    scope_id=editor.scope_id, document=document)
    except ValidationError as exc:  # valid alone, but not over the layers below it
        editor.errors = pydantic_errors(exc, prefix=PATH)
        return await _render(request, viewer, session, editor, status=422)
    editor.report = await dry_run(session, org_id=viewer.principal.org_id, settings=settings,
                                  until=runtime.clock.now(), days=editor.days)
    return await _render(request, viewer, session, editor)


@router.post(BASE + "/save", response_class=HTMLResponse)
async def save_rules(request: Request, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    editor = await _read(request)
    groups = await _scope_groups(session, principal, editor.scope, editor.scope_id, CONFIGURE)
    document = _check(editor)
    if document is None:
        return await _render(request, viewer, session, editor, status=422)
    before = await _layer(session, principal.org_id, editor.scope, editor.scope_id)
    now = runtime.clock.now()
    try:
        after = await do_set_layer_values(
            session, runtime.registry, org_id=principal.org_id, scope=editor.scope,
            scope_id=editor.scope_id, section=FEATURE, values=document, at=now,
            unset=[k for k in before if k not in document])
    except InvalidInput as exc:
        editor.errors = _problems(exc)
        return await _render(request, viewer, session, editor, status=422)
    await do_record(session, principal=principal, action="settings.set",
                    target_type=editor.scope, target_id=editor.scope_id,
                    before={"section": FEATURE, "values": before},
                    after={"section": FEATURE, "values": after}, at=now)
    for group in groups:  # switch all-mute and quiet hours now, not on the next message
        await runtime.pipeline.scheduler.add(
            session, org_id=principal.org_id, group_id=group.id, feature=FEATURE,
            request=JobRequest(MODE_SYNC, now, {}, key=f"{MODE_SYNC}:{group.id}:{now.isoformat()}"),
            caused_by=f"dashboard:{principal.actor}")
    await session.commit()
    runtime.pipeline.scheduler.forget()
    return RedirectResponse(f"{BASE}?scope={editor.scope}:{editor.scope_id}&saved=1",
                            status_code=303)
