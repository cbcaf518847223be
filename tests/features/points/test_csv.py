"""CSV export and import: a round trip, a file imported twice, a bad file rejected whole."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Principal
from qunyun.community.staff_service import cli_principal
from qunyun.core.errors import InvalidInput
from qunyun.features.points.csvio import (
    EXPORT_COLUMNS,
    ImportResult,
    check_import,
    do_import,
    export_csv,
)
from qunyun.points.models import PointsEntry
from tests.conftest import START
from tests.features.points.conftest import balances, community_of, feed, person_of, post, switch_on


async def earn(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, message_cooldown_seconds=0)
    await feed(runtime, org_id, post("u1", "第一条很认真的发言", "m1", 0, name="小明"),
               post("u1", "第二条完全不同的话", "m2", 1), post("u2", "我也来说一句话", "m3", 2))


async def export(runtime: Runtime, org_id: int) -> list[dict[str, str]]:
    async with runtime.sessions() as session:
        text = await export_csv(session, principal=cli_principal(org_id),
                                community_id=await community_of(runtime, org_id))
    assert text.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    return list(csv.DictReader(io.StringIO(text)))


async def import_file(runtime: Runtime, org_id: int, data: bytes,
                      principal: Principal | None = None) -> ImportResult:
    who = principal or cli_principal(org_id)
    async with runtime.sessions() as session:
        plan = await check_import(session, principal=who,
                                  community_id=await community_of(runtime, org_id), data=data)
        result = await do_import(session, plan, principal=who, at=START)
        await session.commit()
        return result


async def entry_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsEntry)) or 0)


async def test_round_trip(runtime: Runtime, org_id: int) -> None:
    await earn(runtime, org_id)
    rows = await export(runtime, org_id)
    assert [(r["display_name"], r["accounts"], r["balance"], r["lifetime_earned"])
            for r in rows] == [("小明", "bridge:u1", "2", "2"), ("u2", "bridge:u2", "1", "1")]
    # Give everyone their balance again, by person number and by account.
    data = ("\ufeffaccount,amount,note\n" + "".join(
        f"{r['person_id'] if i else r['accounts']},{r['balance']},双倍活动\n"
        for i, r in enumerate(rows))).encode()
    result = await import_file(runtime, org_id, data)
    assert (result.applied, result.skipped, result.points) == (2, 0, 3)
    again = await export(runtime, org_id)
    assert [(r["balance"], r["lifetime_earned"]) for r in again] == [("4", "4"), ("2", "2")]
    # The same file again changes nothing.
    assert (await import_file(runtime, org_id, data)).applied == 0
    assert await balances(runtime, org_id) == {"u1": 4, "u2": 2}


async def test_a_bad_file_is_rejected_whole(runtime: Runtime, org_id: int) -> None:
    await earn(runtime, org_id)
    before = await entry_count(runtime)
    u2 = await person_of(runtime, org_id, "u2")
    data = "\n".join([
        "account,amount,note",
        "bridge:u1,5,ok",                    # fine, but the file as a whole is not
        "bridge:nobody,5,",                  # line 3: unknown account
        "bridge:u1,abc,",                    # line 4: not a number
        f"{u2},0,",                          # line 5: zero
        f"{u2},-2,too much",                 # line 6: u2 has 1
        "bridge:u1,1," + "长" * 501,         # line 7: note too long
    ]).encode()
    with pytest.raises(InvalidInput) as raised:
        await import_file(runtime, org_id, data)
    found = sorted((e.path, dict(e.params)["line"]) for e in raised.value.errors)
    assert found == [("account", 3), ("amount", 4), ("amount", 5), ("amount", 6), ("note", 7)]
    assert "amount: line 6: only 1 points to take" in [e.render("en")
                                                       for e in raised.value.errors]
    assert await entry_count(runtime) == before


@pytest.mark.parametrize(("text", "problem"), [
    (b"who,amount\nbridge:u1,1\n", "header"),
    (b"account,amount\n\n", None),
    (b"\xff\xfeaccount", None),
])
async def test_files_that_are_not_imports(runtime: Runtime, org_id: int, text: bytes,
                                          problem: str | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        await import_file(runtime, org_id, text)
    assert [e.path for e in raised.value.errors][:1] == ([problem] if problem else [])
