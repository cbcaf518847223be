"""Chat → red packets. Every message passes here, so the common case (not a command, not a
claim word, not a short message that could be a 口令) returns before touching the database;
the open packets of the organization are read at most once per unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select

from qunyun.community.models import Community
from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.commands import normalize, parse_command
from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import N_, gettext
from qunyun.features.redpacket import service
from qunyun.features.redpacket.command import parse_send, spoken
from qunyun.features.redpacket.models import RedPacket
from qunyun.features.redpacket.settings import RedpacketSettings
from qunyun.features.redpacket.shares import RANDOM
from qunyun.points.service import InsufficientPoints

SCRATCH = "redpacket.open"
MAX_COMMAND_TEXT = 200  # longer messages are never a command or a 口令
EXPIRE = "expire"
ANNOUNCE = "announce"  # a staff packet made on the dashboard is announced by a job


@dataclass(frozen=True, slots=True)
class Words:
    send: frozenset[str]
    claim: frozenset[str]


@lru_cache(maxsize=256)
def _words(send: tuple[str, ...], claim: tuple[str, ...]) -> Words:
    return Words(frozenset(map(normalize, send)), frozenset(map(normalize, claim)))


@dataclass
class OpenPackets:
    """Open packets per group for this unit of work: (packet id, normalised 口令 or "")."""

    loaded: bool = False
    by_group: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def add(self, group_id: int, packet_id: int, keyword: str) -> None:
        self.by_group.setdefault(group_id, []).append((packet_id, normalize(keyword)))

    def drop(self, group_id: int, packet_id: int) -> None:
        self.by_group[group_id] = [p for p in self.by_group.get(group_id, [])
                                   if p[0] != packet_id]


async def _open_packets(ctx: FeatureContext, org_id: int) -> OpenPackets:
    packets = ctx.uow.scratch(SCRATCH, OpenPackets)
    if not packets.loaded:
        for group_id, packet_id, keyword in await service.open_packets(ctx.session, org_id):
            packets.add(group_id, packet_id, keyword)
        packets.loaded = True
    return packets


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or event.type != E.MESSAGE_POSTED or group is None or member is None \
            or group.community_id is None or event.imported:
        return
    text = str(event.data.get("text") or "")
    if not text or len(text) > MAX_COMMAND_TEXT:
        return
    command = parse_command(text)
    if command is None:
        return
    settings: RedpacketSettings = ctx.settings
    words = _words(tuple(settings.send_keywords), tuple(settings.claim_keywords))
    if command.word in words.send:
        await _send(ctx, command.argument)
        return
    said = spoken(text)
    if said not in words.claim and len(said) > service.MAX_KEYWORD:
        return
    packets = await _open_packets(ctx, group.org_id)
    candidates = [pid for pid, keyword in packets.by_group.get(group.id, [])
                  if keyword == said or (not keyword and said in words.claim)]
    if candidates:
        await _claim(ctx, packets, candidates)


def _reply(ctx: FeatureContext, text: str) -> None:
    assert ctx.event is not None
    ctx.emit(send_message(text, reply_to=str(ctx.event.data["message_id"])))


async def _sender_name(ctx: FeatureContext) -> str:
    assert ctx.event is not None and ctx.member is not None
    name = str(ctx.event.data.get("name") or "")
    if not name:
        name = (await service.display_names(ctx.session, [ctx.member.person_id])).get(
            ctx.member.person_id, "")
    return name or str(ctx.event.member or "")


async def _send(ctx: FeatureContext, argument: str) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    assert group.community_id is not None
    settings: RedpacketSettings = ctx.settings
    request = parse_send(argument)
    if request is None:
        _reply(ctx, gettext("Usage: {usage}", ctx.locale, usage=send_usage(settings, ctx.locale)))
        return
    mode = request.mode or settings.default_mode
    sender = await _sender_name(ctx)
    try:
        service.check_packet(total=request.total, count=request.count, mode=mode,
                             keyword=request.keyword, max_total=settings.max_total,
                             max_count=settings.max_count)
        async with ctx.session.begin_nested():  # the feature runs without a savepoint
            packet = await service.do_create_packet(
                ctx.session, org_id=group.org_id, community_id=group.community_id,
                group_id=group.id, total=request.total, count=request.count, mode=mode,
                keyword=request.keyword, at=ctx.now,
                expires_at=ctx.now + timedelta(hours=settings.expire_hours),
                sender_person_id=member.person_id,
                source_event=f"{event.platform}:{event.id}",
                message_id=str(event.data["message_id"]))
    except InvalidInput as exc:
        reasons = "; ".join(gettext(e.reason, ctx.locale, **dict(e.params)) for e in exc.errors)
        _reply(ctx, gettext("The red packet was not sent: {reason}", ctx.locale,
                            reason=reasons or exc.render(ctx.locale)))
        return
    except InsufficientPoints as exc:
        _reply(ctx, gettext("The red packet was not sent: {reason}", ctx.locale,
                            reason=exc.render(ctx.locale)))
        return
    ctx.schedule(EXPIRE, packet.expires_at, {"packet_id": packet.id}, key=f"expire:{packet.id}")
    _reply(ctx, announcement(packet, sender, settings, ctx.locale))
    (await _open_packets(ctx, group.org_id)).add(group.id, packet.id, packet.keyword)


def announcement(packet: RedPacket, sender: str, settings: RedpacketSettings,
                 locale: str) -> str:
    keyword = packet.keyword or settings.claim_keywords[0]
    message = N_("🧧 {name} sent a random red packet: {total} points in {count} shares. Send "
                 "“{keyword}” to grab one! Valid for {hours} hours.") if packet.mode == RANDOM \
        else N_("🧧 {name} sent a red packet: {total} points in {count} equal shares. Send "
                "“{keyword}” to grab one! Valid for {hours} hours.")
    hours = max(1, round((packet.expires_at - packet.created_at).total_seconds() / 3600))
    return gettext(message, locale, name=sender, total=packet.total, count=packet.count,
                   keyword=keyword, hours=hours)


async def _claim(ctx: FeatureContext, packets: OpenPackets, candidates: list[int]) -> None:
    """Claim from the oldest open packet the member has no share of yet."""
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    refusals: list[str] = []
    for packet_id in candidates:
        async with ctx.session.begin_nested():  # the feature runs without a savepoint
            outcome = await service.do_claim(ctx.session, packet_id=packet_id,
                                             person_id=member.person_id, at=ctx.now,
                                             claim_event=f"{event.platform}:{event.id}")
        if outcome.refused is None:
            await _claimed(ctx, packets, packet_id, outcome)
            return
        if outcome.refused == service.GONE:
            packets.drop(group.id, packet_id)
        refusals.append(outcome.refused)
    # Late grabbers of an emptied packet get no reply: a burst of "too late" is noise.
    if service.ALREADY in refusals:
        _reply(ctx, gettext("You already grabbed this red packet.", ctx.locale))


async def _claimed(ctx: FeatureContext, packets: OpenPackets, packet_id: int,
                   outcome: service.ClaimOutcome) -> None:
    assert ctx.group is not None
    text = gettext("You grabbed {amount} points! ({seq}/{count})", ctx.locale,
                   amount=outcome.amount, seq=outcome.seq, count=outcome.count)
    if outcome.finished:
        packets.drop(ctx.group.id, packet_id)
        text += " " + await _finished_note(ctx, packet_id)
    _reply(ctx, text)


async def _finished_note(ctx: FeatureContext, packet_id: int) -> str:
    packet = await service.get_packet(ctx.session, packet_id)
    best = await service.best_share(ctx.session, packet_id)
    if packet is None or best is None or packet.mode != RANDOM:
        return gettext("All shares are taken.", ctx.locale)
    name = (await service.display_names(ctx.session, [best.person_id])).get(best.person_id, "")
    return gettext("All shares are taken. Luckiest: {name} with {amount} points.", ctx.locale,
                   name=name, amount=best.amount)


async def on_job(ctx: FeatureContext) -> None:
    job = ctx.job
    if job is None:
        return
    packet_id = int(job.payload["packet_id"])
    if job.kind == EXPIRE:
        await _expire(ctx, packet_id)
    elif job.kind == ANNOUNCE:
        packet = await service.get_packet(ctx.session, packet_id)
        if packet is not None and packet.status == "open":
            ctx.emit(send_message(announcement(packet, await _funder(ctx, packet),
                                               ctx.settings, ctx.locale)))


async def _expire(ctx: FeatureContext, packet_id: int) -> None:
    async with ctx.session.begin_nested():  # the feature runs without a savepoint
        packet = await service.do_expire(ctx.session, packet_id=packet_id, at=ctx.now)
    if packet is None:
        return
    packets = ctx.uow.scratch(SCRATCH, OpenPackets)
    packets.drop(packet.group_id, packet.id)
    name = await _funder(ctx, packet)
    if packet.sender_person_id is None:
        text = gettext("⏰ The red packet of {name} expired: {claimed}/{count} shares taken, "
                       "{rest} points went back to the community.", ctx.locale, name=name,
                       claimed=packet.claimed_count, count=packet.count, rest=packet.refunded)
    else:
        text = gettext("⏰ The red packet of {name} expired: {claimed}/{count} shares taken, "
                       "{rest} points went back to {name}.", ctx.locale, name=name,
                       claimed=packet.claimed_count, count=packet.count, rest=packet.refunded)
    ctx.emit(send_message(text))


async def _funder(ctx: FeatureContext, packet: RedPacket) -> str:
    """Who the packet is from: its member, or the community for a staff packet."""
    if packet.sender_person_id is not None:
        names = await service.display_names(ctx.session, [packet.sender_person_id])
        return names.get(packet.sender_person_id, "")
    name = await ctx.session.scalar(select(Community.name)
                                     .where(Community.id == packet.community_id))
    return name or ""


def send_usage(settings: RedpacketSettings, locale: str) -> str:
    return gettext("{keyword} <total points> <shares> [拼手气|普通] [口令]", locale,
                   keyword=settings.send_keywords[0])
