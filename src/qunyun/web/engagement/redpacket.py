"""Red packets on the dashboard: the packets of the groups the viewer sees, with their status
and who grabbed what, and a form to send one.

A packet staff send is funded by the community, not by a member: nobody's points are debited,
and when it expires its unclaimed rest is simply never paid out ("goes back to the community").
Sending needs ACT on the group and the CSRF token, is audited, and respects the group's
`redpacket` settings (on, max total, max shares, expiry). The packet is announced in the group
by a scheduled job, so the message leaves through the pipeline like every other action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Person
from qunyun.community.roles import GROUP_ACTIVE
from qunyun.community.settings import GroupScope
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_
from qunyun.features.redpacket import service
from qunyun.features.redpacket.handlers import ANNOUNCE, EXPIRE
from qunyun.features.redpacket.models import EXPIRED, FINISHED, OPEN, RedPacket, RedPacketShare
from qunyun.features.redpacket.settings import RedpacketSettings
from qunyun.features.redpacket.shares import EQUAL, MODES, RANDOM
from qunyun.pipeline.settings_cache import SettingsCache
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Red packets")
DESCRIPTION = N_("Point red packets sent by members and staff, who grabbed how much, and a form "
                 "to send one to a group.")
BASE = "/engagement/redpacket"
FEATURE = "redpacket"
PAGE_SIZE = 50
STATUS_LABELS = {OPEN: N_("Being grabbed"), FINISHED: N_("All grabbed"), EXPIRED: N_("Expired")}
STATUS_BADGES = {OPEN: "badge-open", FINISHED: "badge-done", EXPIRED: ""}
MODE_LABELS = {RANDOM: N_("Random split"), EQUAL: N_("Equal split")}


@dataclass(slots=True)
class SendForm:
    """The send form as typed, with what is wrong with it (by field)."""

    group: str = ""
    total: str = ""
    count: str = ""
    mode: str = RANDOM
    keyword: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PacketRow:
    packet: RedPacket
    group_name: str
    sender: str  # the member who paid, or the staff member who sent it
    claimed_points: int


def _labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "status_badges": STATUS_BADGES,
            "mode_labels": MODE_LABELS, "base": BASE}


async def _packet_rows(session: AsyncSession, principal: Principal,
                       page: int) -> tuple[list[PacketRow], int]:
    where = (RedPacket.org_id == principal.org_id, principal.group_clause())
    total = int(await session.scalar(select(func.count()).select_from(RedPacket)
                                     .join(Group, Group.id == RedPacket.group_id)
                                     .where(*where)) or 0)
    rows = (await session.execute(
        select(RedPacket, Group.name, Person.display_name)
        .join(Group, Group.id == RedPacket.group_id)
        .outerjoin(Person, Person.id == RedPacket.sender_person_id)
        .where(*where).order_by(RedPacket.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))).all()
    claimed = dict((await session.execute(
        select(RedPacketShare.packet_id, func.sum(RedPacketShare.amount))
        .where(RedPacketShare.packet_id.in_([p.id for p, _, _ in rows]),
               RedPacketShare.person_id.is_not(None))
        .group_by(RedPacketShare.packet_id))).all())
    return [PacketRow(p, group_name, sender or _staff_name(p), int(claimed.get(p.id) or 0))
            for p, group_name, sender in rows], total


def _staff_name(packet: RedPacket) -> str:
    return (packet.staff_actor or "").split(":", 1)[-1]


async def _send_groups(session: AsyncSession, principal: Principal) -> list[Group]:
    if not principal.can(ACT):
        return []
    return list(await session.scalars(
        select(Group).where(principal.group_clause(), Group.status == GROUP_ACTIVE,
                            Group.community_id.is_not(None))
        .order_by(Group.name, Group.id)))


async def _page(request: Request, viewer: Viewer, session: AsyncSession,
                form: SendForm | None = None, status: int = 200) -> HTMLResponse:
    raw_page = request.query_params.get("page", "")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    rows, total = await _packet_rows(session, viewer.principal, page)
    return render_page(request, viewer, "engagement/redpacket/page.html", {
        **_labels(), "rows": rows, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "form": form or SendForm(),
        "groups": await _send_groups(session, viewer.principal), "modes": MODES,
    }, status_code=status)


@router.get(BASE, response_class=HTMLResponse)
async def redpacket_page(request: Request, viewer: ViewerDep,
                         session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _page(request, viewer, session)


@router.get(BASE + "/{packet_id}", response_class=HTMLResponse)
async def packet_page(packet_id: int, request: Request, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    packet = await session.scalar(select(RedPacket).where(
        RedPacket.org_id == principal.org_id, RedPacket.id == packet_id))
    if packet is None:
        raise NotFound(N_("no such red packet: {id}"), id=packet_id)
    group = await access_group(session, principal, packet.group_id, VIEW)
    shares = await service.shares(session, packet.id)
    names = await service.display_names(
        session, [p for p in (packet.sender_person_id, *(s.person_id for s in shares)) if p])
    best = await service.best_share(session, packet.id)
    return render_page(request, viewer, "engagement/redpacket/detail.html", {
        **_labels(), "packet": packet, "group": group, "shares": shares, "names": names,
        "sender": names.get(packet.sender_person_id or 0) or _staff_name(packet),
        "best": best if packet.mode == RANDOM and packet.status == FINISHED else None,
        "claimed_points": sum(s.amount for s in shares if s.person_id is not None),
        "sent": request.query_params.get("sent") == "1"})


# --- sending ----------------------------------------------------------------------------------

async def group_settings(session: AsyncSession, runtime: Runtime,
                         group: Group) -> RedpacketSettings:
    """The group's effective `redpacket` settings, as the pipeline computes them."""
    cache = SettingsCache(runtime.registry)
    await cache.refresh(session, group.org_id)
    found = cache.for_group(GroupScope(group.org_id, group.community_id, group.playbook_id,
                                       group.id)).features.get(FEATURE)
    return found if isinstance(found, RedpacketSettings) else RedpacketSettings()


def _number(raw: str, name: str, errors: ErrorCollector) -> int:
    value = raw.strip()
    if not value.isdigit() or int(value) < 1:
        errors.add(name, "must be a positive integer")
        return 0
    return int(value)


async def _read(request: Request) -> SendForm:
    submitted = await request.form()
    return SendForm(text(submitted, "group"), text(submitted, "total"),
                    text(submitted, "count"), text(submitted, "mode") or RANDOM,
                    text(submitted, "keyword").strip())


@router.post(BASE + "/send", response_class=HTMLResponse)
async def send_packet(request: Request, viewer: ViewerDep, session: SessionDep,
                      runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    form = await _read(request)
    errors = ErrorCollector()
    total = _number(form.total, "total", errors)
    count = _number(form.count, "count", errors)
    if not form.group.strip().isdigit():
        errors.add("group", "is required")
        form.errors = field_messages(InvalidInput(N_("the red packet is not valid"),
                                                  errors=errors.errors), viewer.locale)
        return await _page(request, viewer, session, form, status=422)
    group = await access_group(session, principal, int(form.group), ACT)
    settings = await group_settings(session, runtime, group)
    if group.community_id is None:
        errors.add("group", N_("this group belongs to no community"))
    elif not settings.enabled:
        errors.add("group", N_("red packets are off in this group: turn them on in its "
                               "settings first"))
    try:
        if total and count:
            service.check_packet(total=total, count=count, mode=form.mode,
                                 keyword=form.keyword, max_total=settings.max_total,
                                 max_count=settings.max_count)
    except InvalidInput as exc:
        errors.errors.extend(exc.errors)
    if errors or group.community_id is None:
        form.errors = field_messages(InvalidInput(N_("the red packet is not valid"),
                                                  errors=errors.errors), viewer.locale)
        return await _page(request, viewer, session, form, status=422)
    packet = await _create(session, runtime, principal, group, group.community_id, form,
                           total=total, count=count, hours=settings.expire_hours)
    await session.commit()
    runtime.pipeline.scheduler.forget()  # it caches the next due time; ours are new
    return RedirectResponse(f"{BASE}/{packet.id}?sent=1", status_code=303)


async def _create(session: AsyncSession, runtime: Runtime, principal: Principal, group: Group,
                  community_id: int, form: SendForm, *, total: int, count: int,
                  hours: int) -> RedPacket:
    now = runtime.clock.now()
    packet = await service.do_create_packet(
        session, org_id=principal.org_id, community_id=community_id, group_id=group.id,
        total=total, count=count, mode=form.mode, keyword=form.keyword, at=now,
        expires_at=now + timedelta(hours=hours), staff_actor=principal.actor)
    for kind, due in ((ANNOUNCE, now), (EXPIRE, packet.expires_at)):
        await runtime.pipeline.scheduler.add(
            session, org_id=principal.org_id, group_id=group.id, feature=FEATURE,
            request=JobRequest(kind, due, {"packet_id": packet.id}, key=f"{kind}:{packet.id}"),
            caused_by=f"dashboard:{principal.actor}")
    await do_record(session, principal=principal, action="redpacket.send",
                    target_type="redpacket", target_id=packet.id, before=None,
                    after={"group_id": group.id, "total": total, "count": count,
                           "mode": form.mode, "keyword": form.keyword,
                           "expires_at": packet.expires_at.isoformat()}, at=now)
    return packet
