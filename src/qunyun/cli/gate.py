"""`qunyun gate codes create|list|revoke`: invite codes of the entry gates (邀请码)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy import select

from qunyun.cli.common import (
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    console,
    open_runtime,
    org_id_for,
    print_json,
    run,
)
from qunyun.community.models import PlatformAccount
from qunyun.community.queries import find_group
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import N_, gettext
from qunyun.features.gate import codes
from qunyun.features.gate.models import InviteCode

gate_app = typer.Typer(help="Entry gates (入群门槛).", no_args_is_help=True)
codes_app = typer.Typer(help="Invite codes (邀请码).", no_args_is_help=True)
gate_app.add_typer(codes_app, name="codes")
ACTOR = "cli"


def _as_json(code: InviteCode) -> dict[str, object]:
    return {"id": code.id, "code": code.code, "group_id": code.group_id,
            "community_id": code.community_id, "owner_person_id": code.owner_person_id,
            "note": code.note, "uses": code.uses, "max_uses": code.max_uses,
            "expires_at": code.expires_at.isoformat() if code.expires_at else None,
            "revoked_at": code.revoked_at.isoformat() if code.revoked_at else None}


@codes_app.command("create")
def create(group: Annotated[str, typer.Option("--group", "-g",
                                              help="Group: platform:id or its number.")],
           code: Annotated[str, typer.Option(help="The code (default: generated).")] = "",
           owner: Annotated[str, typer.Option(
               help="Owner's platform user id; newcomers are credited to them.")] = "",
           max_uses: Annotated[int | None, typer.Option(help="Most uses.")] = None,
           days: Annotated[int | None, typer.Option(help="Valid for this many days.")] = None,
           note: Annotated[str, typer.Option(help="A note for staff.")] = "",
           db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """Create an invite code for a group."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.write_sessions() as session:
            target = await find_group(session, await org_id_for(rt, org), group)
            now = rt.clock.now()
            errors = ErrorCollector()
            if days is not None and days < 1:
                errors.add("days", "must be a positive integer")
            expires = now + timedelta(days=days) if days and days > 0 else None
            owner_id = await session.scalar(select(PlatformAccount.person_id).where(
                PlatformAccount.org_id == target.org_id,
                PlatformAccount.platform == target.platform,
                PlatformAccount.platform_user_id == owner)) if owner else None
            if owner and owner_id is None:
                errors.add("owner", N_("no member with this id on the group's platform"))
            if target.community_id is None:
                errors.add("group", N_("this group belongs to no community"))
            try:
                value = codes.check_code(code=code, max_uses=max_uses, expires_at=expires,
                                         note=note, at=now)
            except InvalidInput as exc:
                errors.errors.extend(exc.errors)
            if errors or target.community_id is None:
                raise InvalidInput(N_("the invite code was not created"), errors=errors.errors)
            made = await codes.do_create_code(
                session, org_id=target.org_id, created_by=ACTOR, at=now,
                spec=codes.CodeSpec(value, target.community_id, target.id, owner_id, note,
                                    max_uses, expires))
            await session.commit()
        if json:
            print_json(_as_json(made))
        else:
            console.print(gettext("Invite code {code} created.", code=made.code))

    run(main)


@codes_app.command("list")
def list_command(db: DbOption = None, org: OrgOption = "default",
                 json: JsonOption = False) -> None:
    """Every invite code of the organization, newest first, with its uses."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            found = await codes.list_codes(session, org_id=await org_id_for(rt, org))
        if json:
            print_json([_as_json(c) for c in found])
            return
        if not found:
            console.print(gettext("Nothing to show."))
        for c in found:
            limit = f"/{c.max_uses}" if c.max_uses else ""
            until = f"  → {c.expires_at:%Y-%m-%d %H:%M}" if c.expires_at else ""
            gone = "  (revoked)" if c.revoked_at else ""
            sys.stdout.write(f"{c.id}\t{c.code}\t{c.uses}{limit}{until}{gone}\n")

    run(main)


@codes_app.command("revoke")
def revoke(code: Annotated[str, typer.Argument(help="The code.")], db: DbOption = None,
           org: OrgOption = "default") -> None:
    """Revoke an invite code: it lets nobody in any more."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.write_sessions() as session:
            org_id = await org_id_for(rt, org)
            found = await codes.find_code(session, org_id=org_id, code=code)
            if found is None:
                raise InvalidInput(codes.UNKNOWN)
            await codes.do_revoke(session, org_id=org_id, code_id=found.id, at=rt.clock.now())
            await session.commit()
        console.print(gettext("Invite code {code} revoked.", code=found.code))

    run(main)


def register(app: typer.Typer) -> None:
    app.add_typer(gate_app, name="gate")
