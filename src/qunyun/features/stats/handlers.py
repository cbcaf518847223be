"""Event → rollup counts. No I/O here: counts go to the unit of work's accumulator."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import FeatureContext
from qunyun.features.stats.service import StatsAccumulator, do_write, local_day

SCRATCH = "stats"


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or (event.imported and not ctx.settings.count_imported):
        return
    acc = ctx.uow.scratch(SCRATCH, StatsAccumulator)
    ctx.uow.before_commit(SCRATCH, lambda session: do_write(session, acc))
    key = (group.id, local_day(event.at, group.timezone))
    if event.type == E.MEMBER_JOINED and member is not None and member.new_membership:
        acc.count(key, "joins")
    elif event.type == E.MEMBER_LEFT:
        acc.count(key, "leaves")
    elif event.type == E.MESSAGE_POSTED and member is not None:
        acc.count(key, "messages")
        acc.speaker(key, member.person_id)
        if member.messages_before == 0 and not member.seen_before_join:
            acc.count(key, "first_messages")
