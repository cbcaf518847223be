"""The only code that writes the FAQ knowledge base (staff edits, audited) and reads it for the
search index. Services never commit: the caller's unit of work does.

Every edit moves the community's KB revision; the index a process keeps per community (`load_faq`)
is rebuilt when the revision it was built from is no longer the current one.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Community
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.db.dialect import insert_for
from qunyun.features.autoreply.faq_search import FaqIndex, Phrasing
from qunyun.features.autoreply.models import FaqBook, FaqEntry, UnansweredQuestion

MAX_QUESTION = 200
MAX_ANSWER = 2000
MAX_ALTERNATIVES = 20
UNANSWERED_SHOWN = 50


@dataclass(frozen=True, slots=True)
class FaqInput:
    question: str
    alternatives: tuple[str, ...]
    answer: str

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "alternatives": list(self.alternatives),
                "answer": self.answer}


def check_faq_input(*, question: str, alternatives: str | list[str], answer: str) -> FaqInput:
    """Validate an entry as typed: alternatives one per line (or a list). InvalidInput names
    the field of every problem."""
    errors = ErrorCollector()
    question = question.strip()
    answer = answer.strip()
    lines = alternatives.splitlines() if isinstance(alternatives, str) else alternatives
    alts = tuple(dict.fromkeys(a.strip() for a in lines if a.strip() and a.strip() != question))
    if not question:
        errors.add("question", N_("is required"))
    elif len(question) > MAX_QUESTION:
        errors.add("question", N_("must be at most {limit} characters"), limit=MAX_QUESTION)
    if not answer:
        errors.add("answer", N_("is required"))
    elif len(answer) > MAX_ANSWER:
        errors.add("answer", N_("must be at most {limit} characters"), limit=MAX_ANSWER)
    if len(alts) > MAX_ALTERNATIVES:
        errors.add("alternatives", N_("at most {limit} other phrasings"), limit=MAX_ALTERNATIVES)
    elif any(len(a) > MAX_QUESTION for a in alts):
        errors.add("alternatives", N_("each line must be at most {limit} characters"),
                   limit=MAX_QUESTION)
    if errors:
        raise InvalidInput(N_("the FAQ entry is not valid"), errors=errors.errors)
    return FaqInput(question, alts, answer)


def snapshot(entry: FaqEntry) -> dict[str, Any]:
    """An entry as the audit log keeps it."""
    return {"question": entry.question, "alternatives": list(entry.alternatives),
            "answer": entry.answer, "enabled": entry.enabled}


# --- staff edits ----------------------------------------------------------------------------

async def do_create_entry(session: AsyncSession, *, principal: Principal, community_id: int,
                          data: FaqInput, at: datetime,
                          for_question: int | None = None) -> FaqEntry:
    """Add an entry; `for_question`: the unanswered question it answers (marked resolved)."""
    community = await session.get(Community, community_id)
    if community is None or community.org_id != principal.org_id:
        raise NotFound(N_("no such community: {id}"), id=community_id)
    entry = FaqEntry(org_id=principal.org_id, community_id=community_id, question=data.question,
                     alternatives=list(data.alternatives), answer=data.answer, enabled=True,
                     hits=0, created_at=at, created_by=principal.actor, updated_at=at,
                     updated_by=principal.actor)
    session.add(entry)
    await session.flush()
    if for_question is not None:
        await session.execute(update(UnansweredQuestion).where(
            UnansweredQuestion.id == for_question,
            UnansweredQuestion.community_id == community_id).values(resolved=True))
    await _bump_revision(session, principal.org_id, community_id)
    await do_record(session, principal=principal, action="faq.create", target_type="faq",
                    target_id=entry.id, before=None, after=snapshot(entry), at=at)
    return entry


async def do_update_entry(session: AsyncSession, *, principal: Principal, entry_id: int,
                          data: FaqInput, at: datetime) -> FaqEntry:
    entry = await get_entry(session, org_id=principal.org_id, entry_id=entry_id)
    before = snapshot(entry)
    entry.question, entry.alternatives, entry.answer = (data.question, list(data.alternatives),
                                                        data.answer)
    return await _changed(session, principal, entry, before, "faq.update", at)


async def do_set_entry_enabled(session: AsyncSession, *, principal: Principal, entry_id: int,
                               enabled: bool, at: datetime) -> FaqEntry:
    """Disable (or enable again) an entry: entries are never deleted."""
    entry = await get_entry(session, org_id=principal.org_id, entry_id=entry_id)
    if entry.enabled == enabled:
        return entry
    before = snapshot(entry)
    entry.enabled = enabled
    return await _changed(session, principal, entry, before,
                          "faq.enable" if enabled else "faq.disable", at)


async def _changed(session: AsyncSession, principal: Principal, entry: FaqEntry,
                   before: dict[str, Any], action: str, at: datetime) -> FaqEntry:
    entry.updated_at, entry.updated_by = at, principal.actor
    await session.flush()
    await _bump_revision(session, entry.org_id, entry.community_id)
    await do_record(session, principal=principal, action=action, target_type="faq",
                    target_id=entry.id, before=before, after=snapshot(entry), at=at)
    return entry


async def do_dismiss_unanswered(session: AsyncSession, *, principal: Principal,
                                question_id: int, at: datetime) -> UnansweredQuestion:
    """Take a question off the list without answering it (a new repeat brings it back)."""
    question = await get_unanswered(session, org_id=principal.org_id, question_id=question_id)
    if not question.resolved:
        question.resolved = True
        await session.flush()
        await do_record(session, principal=principal, action="faq.dismiss",
                        target_type="faq_question", target_id=question.id,
                        before={"text": question.text, "resolved": False},
                        after={"text": question.text, "resolved": True}, at=at)
    return question


async def _bump_revision(session: AsyncSession, org_id: int, community_id: int) -> None:
    upsert = insert_for(session, FaqBook).values(community_id=community_id, org_id=org_id,
                                                 revision=1)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=["community_id"], set_={"revision": FaqBook.revision + 1}))


# --- reading --------------------------------------------------------------------------------

async def get_entry(session: AsyncSession, *, org_id: int, entry_id: int) -> FaqEntry:
    entry = await session.get(FaqEntry, entry_id)
    if entry is None or entry.org_id != org_id:
        raise NotFound(N_("no such FAQ entry: {id}"), id=entry_id)
    return entry


async def get_unanswered(session: AsyncSession, *, org_id: int,
                         question_id: int) -> UnansweredQuestion:
    question = await session.get(UnansweredQuestion, question_id)
    if question is None or question.org_id != org_id:
        raise NotFound(N_("no such question: {id}"), id=question_id)
    return question


async def list_entries(session: AsyncSession, *, community_id: int) -> list[FaqEntry]:
    """Enabled entries first, the most asked first."""
    rows = await session.scalars(select(FaqEntry).where(FaqEntry.community_id == community_id)
                                 .order_by(FaqEntry.enabled.desc(), FaqEntry.hits.desc(),
                                           FaqEntry.id))
    return list(rows)


async def list_unanswered(session: AsyncSession, *, community_id: int,
                          limit: int = UNANSWERED_SHOWN) -> list[UnansweredQuestion]:
    """Open unanswered questions, the most repeated first."""
    rows = await session.scalars(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.community_id == community_id,
               UnansweredQuestion.resolved.is_(False))
        .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_at.desc(),
                  UnansweredQuestion.id)
        .limit(limit))
    return list(rows)


async def kb_revision(session: AsyncSession, community_id: int) -> int:
    value = await session.scalar(select(FaqBook.revision)
                                 .where(FaqBook.community_id == community_id)
                                 .execution_options(autoflush=False))
    return int(value or 0)


# --- the search index, per community, rebuilt when the revision moves ----------------------

@dataclass(frozen=True, slots=True)
class Faq:
    revision: int
    index: FaqIndex
    entries: dict[int, tuple[str, str]]  # id → (question, answer)


# Per database engine (tests run many databases in one process), per community.
_INDEXES: weakref.WeakKeyDictionary[object, dict[int, Faq]] = weakref.WeakKeyDictionary()


async def load_faq(session: AsyncSession, community_id: int,
                   revision: int | None = None) -> Faq:
    """The community's enabled entries, indexed; built once per revision of the KB."""
    if revision is None:
        revision = await kb_revision(session, community_id)
    cache = _INDEXES.setdefault(session.get_bind(), {})
    faq = cache.get(community_id)
    if faq is None or faq.revision != revision:
        rows = (await session.execute(
            select(FaqEntry.id, FaqEntry.question, FaqEntry.alternatives, FaqEntry.answer)
            .where(FaqEntry.community_id == community_id, FaqEntry.enabled.is_(True))
            .order_by(FaqEntry.id).execution_options(autoflush=False))).all()
        index = FaqIndex.build(Phrasing(entry_id, text) for entry_id, question, alts, _ in rows
                               for text in [question, *alts])
        faq = cache[community_id] = Faq(revision, index,
                                        {row[0]: (row[1], row[3]) for row in rows})
    return faq
