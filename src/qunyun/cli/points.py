"""Commands: `qunyun points show|adjust|export|import|recompute` — the points ledger."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.points_recompute import (
    RecomputePlan,
    do_apply_recompute,
    plan_recompute,
    settings_from_file,
)
from qunyun.cli.common import (
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    console,
    open_runtime,
    org_id_for,
    print_json,
    print_table,
    run,
)
from qunyun.community.models import Community, Person, PlatformAccount
from qunyun.community.staff_service import cli_principal
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.i18n import gettext
from qunyun.features.points.admin import check_adjustment, do_staff_adjust
from qunyun.features.points.csvio import check_import, do_import, export_csv
from qunyun.points import service as ledger

points_app = typer.Typer(help="The points ledger: balances, adjustments, CSV, recompute.",
                         no_args_is_help=True)
CommunityOption = Annotated[str | None, typer.Option(
    "--community", "-c", help="Community name (default: the organization's first).")]
MemberOption = Annotated[str, typer.Option(
    "--member", "-m", help="A person number or platform:user_id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(points_app, name="points")


async def find_community(session: AsyncSession, org_id: int, name: str | None) -> Community:
    query = select(Community).where(Community.org_id == org_id)
    query = query.where(Community.name == name) if name else query.order_by(Community.id)
    community = await session.scalar(query.limit(1))
    if community is None:
        raise NotFound("no community named {name}", name=name or "–")
    return community


async def find_member(session: AsyncSession, org_id: int, ref: str) -> Person:
    """A person by number or by `platform:user_id`."""
    if ref.isdigit():
        query = select(Person).where(Person.org_id == org_id, Person.id == int(ref))
    elif ":" in ref:
        platform, user_id = ref.split(":", 1)
        query = (select(Person).join(PlatformAccount, PlatformAccount.person_id == Person.id)
                 .where(PlatformAccount.org_id == org_id, PlatformAccount.platform == platform,
                        PlatformAccount.platform_user_id == user_id))
    else:
        raise InvalidInput("{option} must be a person number or platform:user_id",
                           option="member")
    person = await session.scalar(query)
    if person is None:
        raise NotFound("no such member: {member}", member=ref)
    return person


@points_app.command("show")
def show(member: MemberOption, community: CommunityOption = None,
         limit: Annotated[int, typer.Option(min=1, max=ledger.MAX_PAGE)] = 20,
         db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """A member's balance, lifetime points and latest entries."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            org_id = await org_id_for(rt, org)
            target = await find_community(session, org_id, community)
            person = await find_member(session, org_id, member)
            got = await ledger.balance(session, community_id=target.id, person_id=person.id)
            rows = [{"at": e.created_at.isoformat(), "amount": e.amount, "reason": e.reason,
                     "group_id": e.group_id, "source": e.source_event, "actor": e.actor,
                     "note": e.note}
                    for e in await ledger.entries(session, community_id=target.id,
                                                  person_id=person.id, limit=limit)]
            if json:
                print_json({"person_id": person.id, "name": person.display_name,
                            "community": target.name, "balance": got.balance,
                            "lifetime_earned": got.lifetime_earned, "entries": rows})
                return
            console.print(gettext("{name}: {balance} points ({lifetime} earned in all)",
                                  name=person.display_name, balance=got.balance,
                                  lifetime=got.lifetime_earned))
            print_table(gettext("Latest entries"), rows)

    run(main)


@points_app.command("adjust")
def adjust(member: MemberOption,
           amount: Annotated[str, typer.Option(help="Points to add (negative: to take).")],
           note: Annotated[str, typer.Option(help="Why, for the audit log.")],
           community: CommunityOption = None, db: DbOption = None,
           org: OrgOption = "default") -> None:
    """Add or take a member's points by hand (audited as `cli`)."""

    async def main() -> None:
        points = check_adjustment(amount, note)
        async with open_runtime(config_for(db)) as rt, rt.write_sessions() as session:
            org_id = await org_id_for(rt, org)
            target = await find_community(session, org_id, community)
            person = await find_member(session, org_id, member)
            await do_staff_adjust(session, principal=cli_principal(org_id),
                                  community_id=target.id, person_id=person.id, amount=points,
                                  note=note, key=f"points:adjust:cli:{uuid.uuid4().hex}",
                                  at=datetime.now(UTC))
            await session.commit()
            got = await ledger.balance(session, community_id=target.id, person_id=person.id)
            console.print(gettext("{name}: {balance} points now", name=person.display_name,
                                  balance=got.balance))

    run(main)


@points_app.command("export")
def export(community: CommunityOption = None,
           out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")]
           = None, db: DbOption = None, org: OrgOption = "default") -> None:
    """Balances as CSV: person_id, display_name, accounts, balance, lifetime_earned."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            org_id = await org_id_for(rt, org)
            target = await find_community(session, org_id, community)
            text = await export_csv(session, principal=cli_principal(org_id),
                                    community_id=target.id)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")

    run(main)


@points_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="CSV with account, amount, note.")],
            community: CommunityOption = None, db: DbOption = None,
            org: OrgOption = "default", json: JsonOption = False) -> None:
    """Adjustments from CSV, all or nothing; the same file twice changes nothing."""

    async def main() -> None:
        if not file.is_file():
            raise NotFound("no such file: {path}", path=str(file))
        data = file.read_bytes()
        async with open_runtime(config_for(db)) as rt, rt.write_sessions() as session:
            org_id = await org_id_for(rt, org)
            target = await find_community(session, org_id, community)
            principal = cli_principal(org_id)
            plan = await check_import(session, principal=principal, community_id=target.id,
                                      data=data)
            result = await do_import(session, plan, principal=principal, at=datetime.now(UTC))
            await session.commit()
        if json:
            print_json({"applied": result.applied, "skipped": result.skipped,
                        "points": result.points})
            return
        console.print(gettext("{applied} rows applied ({points} points), {skipped} imported "
                              "before", applied=result.applied, points=result.points,
                              skipped=result.skipped))

    run(main)


@points_app.command("recompute")
def recompute(community: CommunityOption = None,
              settings: Annotated[Path | None, typer.Option(
                  help="TOML with [features.points] (default: each group's current "
                       "settings).")] = None,
              dry_run: Annotated[bool, typer.Option(
                  "--dry-run", help="Only show the difference per member.")] = False,
              db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """Re-run the award rules over the event history; correct the ledger (or --dry-run)."""

    async def main() -> None:
        override = settings_from_file(settings) if settings else None
        async with open_runtime(config_for(db)) as rt, rt.write_sessions() as session:
            org_id = await org_id_for(rt, org)
            target = await find_community(session, org_id, community)
            now = datetime.now(UTC)
            plan = await plan_recompute(session, rt.registry, org_id=org_id,
                                        community_id=target.id, until=now, override=override)
            applied = None
            if not dry_run:
                applied = await do_apply_recompute(session, plan, org_id=org_id,
                                                   principal=cli_principal(org_id), at=now)
                await session.commit()
        _show_recompute(plan, applied, json)

    run(main)


def _show_recompute(plan: RecomputePlan, applied: list[Any] | None, as_json: bool) -> None:
    if as_json:
        body = plan.as_dict()
        if applied is not None:
            body["applied"] = [{"person_id": a.person_id, "difference": a.difference,
                                "applied": a.applied, "shortfall": a.shortfall}
                               for a in applied]
        print_json(body)
        return
    print_table(gettext("Recomputed rule points"), [
        {"person": m.person_id, "name": m.name, "now": m.current, "recomputed": m.recomputed,
         "difference": m.difference} for m in plan.members])
    console.print(gettext("{n} members differ; rule points {current} now, {recomputed} "
                          "recomputed", n=len(plan.members), current=plan.current_total,
                          recomputed=plan.recomputed_total))
    if applied is not None:
        short = [a for a in applied if a.shortfall]
        console.print(gettext("Corrections written: {n}; {short} members had fewer points "
                              "than to take ({points} points owed)",
                              n=sum(1 for a in applied if a.applied), short=len(short),
                              points=sum(a.shortfall for a in short)))

