"""What the handler changes while the pipeline runs a batch of events: cooldowns, FAQ hit counts
and unanswered questions. Kept in the unit of work's scratch space and written once before
commit, so an ordinary message costs no query; reads happen only when a rule matched (its
cooldown) or a question came (the KB revision, once per community and batch). Those reads do not
flush the batch's pending identity writes: none of them touches what they read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.db.dialect import insert_for
from qunyun.features.autoreply.models import FaqEntry, RuleCooldown, UnansweredQuestion
from qunyun.features.autoreply.service import Faq, kb_revision, load_faq

CooldownKey = tuple[int, str, str]  # group, rule key, member ("" for group replies)


@dataclass(slots=True)
class _Unanswered:
    org_id: int
    text: str
    group_id: int
    first_at: datetime
    last_at: datetime
    count: int = 0


@dataclass
class AutoreplyBatch:
    # Per group: (rule key, member) → last reply; a group's rows are read once per batch.
    last_replies: dict[int, dict[tuple[str, str], datetime]] = field(default_factory=dict)
    changed_replies: set[CooldownKey] = field(default_factory=set)
    hits: Counter[int] = field(default_factory=Counter)
    unanswered: dict[tuple[int, str], _Unanswered] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # person → display name

    async def last_reply(self, session: AsyncSession, key: CooldownKey) -> datetime | None:
        group_id, rule_key, member = key
        replies = self.last_replies.get(group_id)
        if replies is None:
            rows = await session.execute(
                select(RuleCooldown.rule_key, RuleCooldown.member, RuleCooldown.last_reply_at)
                .where(RuleCooldown.group_id == group_id).execution_options(autoflush=False))
            replies = self.last_replies[group_id] = {(k, m): at for k, m, at in rows}
        return replies.get((rule_key, member))

    def replied(self, key: CooldownKey, at: datetime) -> None:
        group_id, rule_key, member = key
        self.last_replies.setdefault(group_id, {})[(rule_key, member)] = at
        self.changed_replies.add(key)

    async def faq(self, session: AsyncSession, community_id: int) -> Faq:
        """The community's FAQ index; its revision is read once per batch."""
        if community_id not in self.revisions:
            self.revisions[community_id] = await kb_revision(session, community_id)
        return await load_faq(session, community_id, self.revisions[community_id])

    def hit(self, entry_id: int) -> None:
        self.hits[entry_id] += 1

    def not_answered(self, *, org_id: int, community_id: int, signature: str, text: str,
                     group_id: int, at: datetime) -> None:
        item = self.unanswered.get((community_id, signature))
        if item is None:
            item = self.unanswered[(community_id, signature)] = _Unanswered(
                org_id, text, group_id, at, at)
        item.text, item.group_id, item.last_at = text[:200], group_id, max(item.last_at, at)
        item.count += 1


async def do_write(session: AsyncSession, batch: AutoreplyBatch) -> None:
    if batch.changed_replies:
        upsert = insert_for(session, RuleCooldown)
        await session.execute(upsert.on_conflict_do_update(
            index_elements=["group_id", "rule_key", "member"],
            set_={"last_reply_at": upsert.excluded.last_reply_at}),
            [{"group_id": g, "rule_key": k, "member": m,
              "last_reply_at": batch.last_replies[g][(k, m)]}
             for g, k, m in sorted(batch.changed_replies)])
    for entry_id, count in sorted(batch.hits.items()):
        await session.execute(update(FaqEntry).where(FaqEntry.id == entry_id)
                              .values(hits=FaqEntry.hits + count))
    if batch.unanswered:
        upsert = insert_for(session, UnansweredQuestion)
        await session.execute(upsert.on_conflict_do_update(
            index_elements=["community_id", "signature"],
            set_={"count": UnansweredQuestion.count + upsert.excluded.count,
                  "last_at": upsert.excluded.last_at, "text": upsert.excluded.text,
                  "group_id": upsert.excluded.group_id, "resolved": False}),
            [{"org_id": u.org_id, "community_id": c, "signature": s, "text": u.text,
              "group_id": u.group_id, "first_at": u.first_at, "last_at": u.last_at,
              "count": u.count, "resolved": False}
             for (c, s), u in sorted(batch.unanswered.items())])
    batch.changed_replies.clear()
    batch.last_replies.clear()  # other writers may reply too between batches
    batch.hits.clear()
    batch.unanswered.clear()
