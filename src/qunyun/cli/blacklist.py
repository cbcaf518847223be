"""`qunyun blacklist add|list|remove|share|subscribe`: the organization blacklist from the shell.

Changes are made as the CLI actor and audited like the dashboard's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

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
from qunyun.community import blacklist
from qunyun.community.staff_service import cli_principal
from qunyun.core.errors import InvalidInput
from qunyun.core.i18n import gettext

blacklist_app = typer.Typer(help="The organization blacklist (黑名单) and shared lists.",
                            no_args_is_help=True)
MAX_DAYS = 3650


@blacklist_app.command("add")
def add(member: Annotated[str, typer.Argument(help="platform:user_id or the member number.")],
        reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")],
        days: Annotated[int | None, typer.Option(
            help="Expire after this many days (default: never).")] = None,
        shared: Annotated[bool, typer.Option(
            help="Share with organizations that subscribe to our list.")] = False,
        db: DbOption = None, org: OrgOption = "default") -> None:
    """Bar a member from every group of the organization."""

    async def main() -> None:
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise InvalidInput("--days must be from 1 to {limit}", limit=MAX_DAYS)
        async with open_runtime(config_for(db)) as rt:
            org_id = await org_id_for(rt, org)
            now = rt.clock.now()
            async with rt.write_sessions() as session:
                person = await blacklist.find_person(session, org_id=org_id, ref=member)
                entry = await blacklist.do_blacklist(
                    session, org_id=org_id, person_id=person.id, reason=reason,
                    added_by=cli_principal(org_id), at=now, shared=shared,
                    expires_at=now + timedelta(days=days) if days else None)
                await session.commit()
        console.print(gettext("Added blacklist entry #{id} for {name}.", id=entry.id,
                              name=entry.display_name or entry.person_id))

    run(main)


@blacklist_app.command("list")
def list_command(search: Annotated[str, typer.Option(
                     "--search", "-s", help="Name, reason or user id.")] = "",
                 all_entries: Annotated[bool, typer.Option(
                     "--all", help="Include expired and removed entries.")] = False,
                 db: DbOption = None, org: OrgOption = "default",
                 json: JsonOption = False) -> None:
    """The entries in force (or all of them), newest first."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt:
            org_id = await org_id_for(rt, org)
            async with rt.sessions() as session:
                found = await blacklist.list_entries(session, org_id=org_id, at=rt.clock.now(),
                                                     search=search, include_ended=all_entries,
                                                     limit=10_000)
        rows = [{"id": e.id, "person": e.person_id, "name": e.display_name,
                 "accounts": " ".join(f"{p}:{u}" for p, u in found.accounts[e.id]),
                 "reason": e.reason, "added": e.added_at.isoformat(), "by": e.added_by,
                 "expires": e.expires_at.isoformat() if e.expires_at else None,
                 "removed": e.removed_at.isoformat() if e.removed_at else None,
                 "shared": e.shared} for e in found.entries]
        if json:
            print_json(rows)
        else:
            print_table(gettext("Blacklist"), rows)

    run(main)


@blacklist_app.command("remove")
def remove(entry_id: Annotated[int, typer.Argument(help="The entry number.")],
           db: DbOption = None, org: OrgOption = "default") -> None:
    """Lift an entry (it stays in the history)."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt:
            org_id = await org_id_for(rt, org)
            async with rt.write_sessions() as session:
                await blacklist.do_remove(session, org_id=org_id, entry_id=entry_id,
                                          removed_by=cli_principal(org_id), at=rt.clock.now())
                await session.commit()
        console.print(gettext("Removed blacklist entry #{id}.", id=entry_id))

    run(main)


@blacklist_app.command("share")
def share(entry_id: Annotated[int, typer.Argument(help="The entry number.")],
          off: Annotated[bool, typer.Option("--off", help="Stop sharing it.")] = False,
          db: DbOption = None, org: OrgOption = "default") -> None:
    """Put an entry on the list other organizations may subscribe to (or take it off)."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt:
            org_id = await org_id_for(rt, org)
            async with rt.write_sessions() as session:
                await blacklist.do_set_shared(session, org_id=org_id, entry_id=entry_id,
                                              shared=not off, actor=cli_principal(org_id),
                                              at=rt.clock.now())
                await session.commit()
        console.print(gettext("Blacklist entry #{id} is no longer shared.", id=entry_id) if off
                      else gettext("Blacklist entry #{id} is shared.", id=entry_id))

    run(main)


@blacklist_app.command("subscribe")
def subscribe(source: Annotated[str, typer.Argument(
                  help="The slug of the organization whose shared list to read.")],
              db: DbOption = None, org: OrgOption = "default") -> None:
    """Let another organization's shared entries bar people from our groups too."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt:
            org_id = await org_id_for(rt, org)
            async with rt.write_sessions() as session:
                await blacklist.do_subscribe(session, org_id=org_id, source_slug=source,
                                             principal=cli_principal(org_id), at=rt.clock.now())
                await session.commit()
        console.print(gettext("Subscribed to the shared list of {slug}.", slug=source))

    run(main)


def register(app: typer.Typer) -> None:
    app.add_typer(blacklist_app, name="blacklist")
