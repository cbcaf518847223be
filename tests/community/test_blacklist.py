"""The organization blacklist: entries in force (expiry, removal, replacement, never deleted),
bad input changing nothing, audit of staff changes, and shared lists matched across
organizations by platform account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community import blacklist
from qunyun.community.access import Principal
from qunyun.community.audit import AuditEntry
from qunyun.community.blacklist import BlacklistEntry
from qunyun.community.models import PlatformAccount
from qunyun.community.service import do_create_organization
from qunyun.core.errors import Conflict, InvalidInput, NotFound
from qunyun.core.events import parse_event
from tests.factories import joined

DAY = timedelta(days=1)


def staff(org_id: int) -> Principal:
    return Principal(org_id=org_id, role="owner", actor="staff:hq")


async def person_of(runtime: Runtime, org_id: int, member: str, *,
                    platform: str = "bridge") -> int:
    """The person of `member`, created by a join through the pipeline."""
    await runtime.pipeline.process(org_id, [parse_event(
        joined(member, group=f"g-{org_id}", platform=platform))])
    async with runtime.sessions() as session:
        person_id = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.org_id == org_id, PlatformAccount.platform == platform,
            PlatformAccount.platform_user_id == member))
    assert person_id is not None
    return person_id


async def other_org(runtime: Runtime, slug: str) -> int:
    async with runtime.write_sessions() as session:
        org = await do_create_organization(session, name=slug.title(), slug=slug,
                                           at=runtime.clock.now())
        await session.commit()
    return org.id


async def test_an_entry_bars_until_it_expires_or_is_removed(runtime: Runtime,
                                                            org_id: int) -> None:
    spammer = await person_of(runtime, org_id, "ad-man")
    bystander = await person_of(runtime, org_id, "nice")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        entry = await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                             reason="  广告  ", added_by=staff(org_id), at=now,
                                             expires_at=now + 7 * DAY)
        await session.commit()
    assert entry.reason == "广告" and entry.added_by == "staff:hq"
    async with runtime.sessions() as session:
        found = await blacklist.find_blacklisted(session, org_id=org_id, person_id=spammer,
                                                 at=now + DAY)
        assert found is not None and found.id == entry.id
        assert await blacklist.find_blacklisted(session, org_id=org_id, person_id=bystander,
                                                at=now) is None
        assert await blacklist.find_blacklisted(session, org_id=org_id, person_id=spammer,
                                                at=now + 7 * DAY) is None  # expired
        page = await blacklist.list_entries(session, org_id=org_id, at=now)
        assert [e.id for e in page.entries] == [entry.id]
        assert page.accounts[entry.id] == [("bridge", "ad-man")]
        assert (await blacklist.list_entries(session, org_id=org_id,
                                             at=now + 8 * DAY)).total == 0
    async with runtime.write_sessions() as session:
        await blacklist.do_remove(session, org_id=org_id, entry_id=entry.id,
                                  removed_by=staff(org_id), at=now + DAY)
        await session.commit()
    async with runtime.sessions() as session:
        assert await blacklist.find_blacklisted(session, org_id=org_id, person_id=spammer,
                                                at=now + 2 * DAY) is None
        kept = await blacklist.list_entries(session, org_id=org_id, at=now + 2 * DAY,
                                            include_ended=True)
        assert [(e.id, e.removed_by) for e in kept.entries] == [(entry.id, "staff:hq")]
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type == "blacklist").order_by(AuditEntry.id)))
    assert actions == ["blacklist.add", "blacklist.remove"]


async def test_blacklisting_again_replaces_the_standing_entry(runtime: Runtime,
                                                              org_id: int) -> None:
    spammer = await person_of(runtime, org_id, "ad-man")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        first = await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                             reason="广告", added_by="moderation:block", at=now)
        second = await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                              reason="又发广告", added_by="moderation:block",
                                              at=now + DAY)
        await session.commit()
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id)))
        found = await blacklist.find_blacklisted(session, org_id=org_id, person_id=spammer,
                                                 at=now + DAY)
        audited = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.target_type == "blacklist"))
    assert [(r.id, r.removed_by) for r in rows] == [(first.id, "replaced"), (second.id, None)]
    assert found is not None and found.id == second.id
    assert audited == 0  # automatic actors are not staff changes


async def test_bad_input_changes_nothing(runtime: Runtime, org_id: int) -> None:
    spammer = await person_of(runtime, org_id, "ad-man")
    elsewhere = await other_org(runtime, "rival")
    stranger = await person_of(runtime, elsewhere, "x")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        with pytest.raises(InvalidInput) as bad:
            await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                         reason=" ", added_by=staff(org_id), at=now,
                                         expires_at=now - DAY)
        assert sorted(e.path for e in bad.value.errors) == ["expires_at", "reason"]
        with pytest.raises(InvalidInput):
            await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                         reason="x" * 501, added_by=staff(org_id), at=now)
        with pytest.raises(NotFound):  # another organization's person
            await blacklist.do_blacklist(session, org_id=org_id, person_id=stranger,
                                         reason="广告", added_by=staff(org_id), at=now)
        with pytest.raises(NotFound):
            await blacklist.do_remove(session, org_id=org_id, entry_id=999,
                                      removed_by=staff(org_id), at=now)
        with pytest.raises(NotFound):
            await blacklist.find_person(session, org_id=org_id, ref="bridge:nobody")
        with pytest.raises(InvalidInput):
            await blacklist.find_person(session, org_id=org_id, ref="not a ref")
        assert (await blacklist.find_person(session, org_id=org_id,
                                            ref="bridge:ad-man")).id == spammer
        assert (await blacklist.find_person(session, org_id=org_id,
                                            ref=str(spammer))).id == spammer
        await session.commit()
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(BlacklistEntry)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_removing_twice_is_a_conflict(runtime: Runtime, org_id: int) -> None:
    spammer = await person_of(runtime, org_id, "ad-man")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        entry = await blacklist.do_blacklist(session, org_id=org_id, person_id=spammer,
                                             reason="广告", added_by=staff(org_id), at=now)
        await blacklist.do_remove(session, org_id=org_id, entry_id=entry.id,
                                  removed_by=staff(org_id), at=now)
        with pytest.raises(Conflict):
            await blacklist.do_remove(session, org_id=org_id, entry_id=entry.id,
                                      removed_by=staff(org_id), at=now)


async def test_shared_entries_reach_subscribers_by_platform_account(runtime: Runtime,
                                                                    org_id: int) -> None:
    """Brand A shares its advertiser; brand B subscribes and bars the same QQ account, which
    is a different person there. Unshared entries and ended subscriptions reach nobody."""
    brand_b = await other_org(runtime, "brand-b")
    ad_in_a = await person_of(runtime, org_id, "10001", platform="qq")
    quiet_in_a = await person_of(runtime, org_id, "10002", platform="qq")
    ad_in_b = await person_of(runtime, brand_b, "10001", platform="qq")
    quiet_in_b = await person_of(runtime, brand_b, "10002", platform="qq")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        shared = await blacklist.do_blacklist(session, org_id=org_id, person_id=ad_in_a,
                                              reason="广告", added_by=staff(org_id), at=now,
                                              shared=True)
        await blacklist.do_blacklist(session, org_id=org_id, person_id=quiet_in_a,
                                     reason="内部", added_by=staff(org_id), at=now)
        await session.commit()
    async with runtime.sessions() as session:  # not subscribed yet
        assert await blacklist.find_blacklisted(session, org_id=brand_b, person_id=ad_in_b,
                                                at=now) is None
    async with runtime.write_sessions() as session:
        subscription = await blacklist.do_subscribe(session, org_id=brand_b,
                                                    source_slug="default",
                                                    principal=staff(brand_b), at=now)
        with pytest.raises(Conflict):
            await blacklist.do_subscribe(session, org_id=brand_b, source_slug="default",
                                         principal=staff(brand_b), at=now)
        with pytest.raises(InvalidInput):
            await blacklist.do_subscribe(session, org_id=brand_b, source_slug="brand-b",
                                         principal=staff(brand_b), at=now)
        await session.commit()
    async with runtime.sessions() as session:
        found = await blacklist.find_blacklisted(session, org_id=brand_b, person_id=ad_in_b,
                                                 at=now)
        assert found is not None and found.id == shared.id
        assert await blacklist.find_blacklisted(session, org_id=brand_b, person_id=quiet_in_b,
                                                at=now) is None  # not shared
        [row] = await blacklist.list_subscriptions(session, org_id=brand_b, at=now)
        assert (row.source_slug, row.shared_in_force) == ("default", 1)
        # A's own lookups are unaffected by B's subscription.
        assert await blacklist.find_blacklisted(session, org_id=org_id, person_id=quiet_in_a,
                                                at=now) is not None
    async with runtime.write_sessions() as session:
        await blacklist.do_set_shared(session, org_id=org_id, entry_id=shared.id, shared=False,
                                      actor=staff(org_id), at=now)
        await session.commit()
    async with runtime.sessions() as session:
        assert await blacklist.find_blacklisted(session, org_id=brand_b, person_id=ad_in_b,
                                                at=now) is None
    async with runtime.write_sessions() as session:
        await blacklist.do_set_shared(session, org_id=org_id, entry_id=shared.id, shared=True,
                                      actor=staff(org_id), at=now)
        await blacklist.do_unsubscribe(session, org_id=brand_b, subscription_id=subscription.id,
                                       principal=staff(brand_b), at=now + DAY)
        await session.commit()
    async with runtime.sessions() as session:
        assert await blacklist.find_blacklisted(session, org_id=brand_b, person_id=ad_in_b,
                                                at=now + DAY) is None
        assert await blacklist.list_subscriptions(session, org_id=brand_b, at=now) == []


async def test_search_by_name_reason_and_account(runtime: Runtime, org_id: int) -> None:
    first = await person_of(runtime, org_id, "wx-seller")
    second = await person_of(runtime, org_id, "flooder")
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        for person, reason in ((first, "加微信卖货"), (second, "刷屏")):
            await blacklist.do_blacklist(session, org_id=org_id, person_id=person,
                                         reason=reason, added_by=staff(org_id), at=now)
        await session.commit()
    async with runtime.sessions() as session:
        for needle, expected in (("微信", [first]), ("flood", [second]), ("", [second, first]),
                                 ("nothing", [])):
            page = await blacklist.list_entries(session, org_id=org_id, at=now, search=needle)
            assert [e.person_id for e in page.entries] == expected, needle
