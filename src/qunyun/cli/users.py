"""`qunyun user create|list|passwd`: staff accounts from the command line (the first owner)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.cli.common import (
    DEFAULT_ORG,
    ConfigOption,
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
from qunyun.community.access import Scope
from qunyun.community.models import Community
from qunyun.community.queries import find_group
from qunyun.community.staff_scope import load_scope, scope_document
from qunyun.community.staff_service import (
    cli_principal,
    do_create_staff,
    do_reset_password,
    list_staff,
)
from qunyun.core.errors import NotFound
from qunyun.core.i18n import gettext

user_app = typer.Typer(help="Staff accounts of the dashboard.", no_args_is_help=True)


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    operator = "operator"
    guide = "guide"
    viewer = "viewer"


UsernameOption = Annotated[str, typer.Option("--username", "-u", help="Sign-in name.")]
PasswordOption = Annotated[str | None, typer.Option(
    "--password", help="The password (at least 8 characters); asked for when left out.")]


def _password(given: str | None) -> str:
    if given is not None:
        return given
    value: str = typer.prompt(gettext("Password"), hide_input=True, confirmation_prompt=True)
    return value


async def _scope(session: AsyncSession, org_id: int, communities: list[str], stores: list[str],
                 groups: list[str]) -> Scope:
    """The whole organization when nothing is named, else the named parts."""
    if not (communities or stores or groups):
        return Scope()
    community_ids = set()
    for name in communities:
        found = await session.scalar(select(Community.id).where(Community.org_id == org_id,
                                                                Community.name == name))
        if found is None:
            raise NotFound("no community named {name}", name=name)
        community_ids.add(found)
    group_ids = {(await find_group(session, org_id, ref)).id for ref in groups}
    return Scope(whole_org=False, communities=frozenset(community_ids),
                 stores=frozenset(stores), groups=frozenset(group_ids))


@user_app.command("create")
def create_user(
    username: UsernameOption,
    role: Annotated[Role, typer.Option("--role", help="What the person may do.")],
    community: Annotated[list[str] | None, typer.Option(
        "--community", help="Limit to this community (by name); repeatable.")] = None,
    store: Annotated[list[str] | None, typer.Option(
        "--store", help="Limit to the groups of this store; repeatable.")] = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="Limit to this group (platform:id); repeatable.")] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password: PasswordOption = None, org: OrgOption = DEFAULT_ORG, db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Create a staff account; without --community/--store/--group it covers the whole
    organization."""
    secret = _password(password)

    async def work() -> int:
        async with open_runtime(config_for(db, config)) as runtime:
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                scope = await _scope(session, org_id, community or [], store or [], group or [])
                user = await do_create_staff(
                    session, principal=cli_principal(org_id), username=username,
                    password=secret, role=role.value, scope=scope, at=runtime.clock.now(),
                    display_name=name)
                await session.commit()
                return user.id

    user_id = run(work)
    console.print(gettext("staff member {name} created (id {id})", name=username, id=user_id))


@user_app.command("list")
def list_users(org: OrgOption = DEFAULT_ORG, db: DbOption = None, config: ConfigOption = None,
               json: JsonOption = False) -> None:
    """Staff accounts of the organization with their roles and scopes."""

    async def work() -> list[dict[str, Any]]:
        async with open_runtime(config_for(db, config)) as runtime:
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                return [{"id": u.id, "username": u.username, "name": u.display_name,
                         "role": u.role, "scope": scope_document(await load_scope(session, u)),
                         "disabled": u.disabled_at is not None}
                        for u in await list_staff(session, org_id)]

    rows = run(work)
    if json:
        print_json(rows)
        return
    table = Table("id", "username", "name", "role", "scope", "disabled")
    for row in rows:
        table.add_row(str(row["id"]), row["username"], row["name"], row["role"],
                      _scope_text(row["scope"]),
                      "yes" if row["disabled"] else "")
    console.print(table)


@user_app.command("passwd")
def change_password(username: UsernameOption, password: PasswordOption = None,
                    org: OrgOption = DEFAULT_ORG, db: DbOption = None,
                    config: ConfigOption = None) -> None:
    """Set a staff member's password; every session of theirs ends."""
    secret = _password(password)

    async def work() -> None:
        async with open_runtime(config_for(db, config)) as runtime:
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                await do_reset_password(session, principal=cli_principal(org_id),
                                        username=username, new=secret,
                                        at=runtime.clock.now())
                await session.commit()

    run(work)
    console.print(gettext("password of {name} changed", name=username))


def _scope_text(document: dict[str, list[Any]] | None) -> str:
    if document is None:
        return "*"
    return " ".join(f"{kind}:{ref}" for kind in ("communities", "stores", "groups")
                    for ref in document[kind])


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
