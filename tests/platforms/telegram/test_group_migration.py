"""Re-keying a group to its new platform id: one effect, conflicts left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.group_migration import do_migrate_group
from qunyun.community.models import Group

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def _group(runtime: Runtime, org_id: int, platform_id: str) -> int:
    async with runtime.write_sessions() as session:
        group = Group(org_id=org_id, platform="telegram", platform_id=platform_id, name="g",
                      created_at=AT)
        session.add(group)
        await session.commit()
        return group.id


async def _migrate(runtime: Runtime, org_id: int, old: str, new: str) -> str:
    async with runtime.write_sessions() as session:
        outcome = await do_migrate_group(session, org_id=org_id, platform="telegram",
                                         old_id=old, new_id=new)
        await session.commit()
    return outcome


async def _ids(runtime: Runtime) -> dict[int, str]:
    async with runtime.sessions() as session:
        return dict((await session.execute(select(Group.id, Group.platform_id))).all())


async def test_rekey_once_then_already(runtime: Runtime, org_id: int) -> None:
    group_id = await _group(runtime, org_id, "-1")
    assert await _migrate(runtime, org_id, "-1", "-1001") == "migrated"
    assert await _migrate(runtime, org_id, "-1", "-1001") == "already"
    assert await _ids(runtime) == {group_id: "-1001"}


async def test_unknown_and_conflict_change_nothing(runtime: Runtime, org_id: int) -> None:
    assert await _migrate(runtime, org_id, "-7", "-1007") == "unknown"
    a, b = await _group(runtime, org_id, "-2"), await _group(runtime, org_id, "-1002")
    assert await _migrate(runtime, org_id, "-2", "-1002") == "conflict"
    assert await _ids(runtime) == {a: "-2", b: "-1002"}
