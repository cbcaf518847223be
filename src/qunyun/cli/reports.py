"""Read commands: `qunyun stats`, `qunyun members list`, `qunyun tasks list|done`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import select

from qunyun.app.engagement import member_engagement
from qunyun.cli.common import (
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    open_runtime,
    org_id_for,
    print_json,
    print_table,
    run,
)
from qunyun.community.models import Group
from qunyun.community.queries import find_group, list_members
from qunyun.core.errors import NotFound
from qunyun.core.i18n import gettext
from qunyun.features.stats.service import get_daily
from qunyun.pipeline.models import StaffTask

GroupOption = Annotated[str, typer.Option("--group", "-g",
                                          help="Group: platform:id or its number.")]
members_app = typer.Typer(help="Members of a group.", no_args_is_help=True)
tasks_app = typer.Typer(help="Staff tasks: actions a platform cannot perform itself.",
                        no_args_is_help=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def stats(group: GroupOption, days: Annotated[int, typer.Option(min=1)] = 30,
          db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """Daily statistics of a group: joins, leaves, messages, speakers, first messages."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            target = await find_group(session, await org_id_for(rt, org), group)
            rows = (await get_daily(session, group_id=target.id))[-days:]
            data = [{"day": r.day.isoformat(), "joins": r.joins, "leaves": r.leaves,
                     "messages": r.messages, "speakers": r.speakers,
                     "first_messages": r.first_messages} for r in rows]
            if json:
                print_json({"group": f"{target.platform}:{target.platform_id}",
                            "name": target.name, "days": data})
                return
            print_table(gettext("Statistics of {group}", group=target.name), data)

    run(main)


@members_app.command("list")
def members_list(group: GroupOption, status: str | None = None, db: DbOption = None,
                 org: OrgOption = "default", json: JsonOption = False) -> None:
    """Members of a group with role, status, member number and join time."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            target = await find_group(session, await org_id_for(rt, org), group)
            rows = await list_members(session, group_id=target.id, status=status)
            engagement = await member_engagement(session, target.org_id, target.community_id,
                                                 [r.person_id for r in rows])
            data = [{"id": r.person_id, "name": r.name, "role": r.role, "status": r.status,
                     "member_no": r.member_no, "joined": _iso(r.joined_at),
                     "left": _iso(r.left_at), "last_active": _iso(r.last_active_at),
                     "messages": r.message_count,
                     **engagement.get(r.person_id, {"points": 0, "level": None})}
                    for r in rows]
            if json:
                print_json(data)
                return
            print_table(gettext("Members of {group}", group=target.name), data)

    run(main)


@tasks_app.command("list")
def tasks_list(status: Annotated[str, typer.Option(help="open, done or all")] = "open",
               db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """Staff tasks with the content ready to copy."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            org_id = await org_id_for(rt, org)
            query = (select(StaffTask, Group.name).outerjoin(Group, Group.id == StaffTask.group_id)
                     .where(StaffTask.org_id == org_id).order_by(StaffTask.id))
            if status != "all":
                query = query.where(StaffTask.status == status)
            data = [{"id": t.id, "group": name, "kind": t.kind, "assignee": t.assignee_role,
                     "status": t.status, "created": _iso(t.created_at), "content": t.content}
                    for t, name in await session.execute(query)]
            if json:
                print_json(data)
                return
            print_table(gettext("Staff tasks"), data)

    run(main)


@tasks_app.command("done")
def tasks_done(task_id: int, by: Annotated[str, typer.Option(help="Who did it.")] = "cli",
               db: DbOption = None, org: OrgOption = "default") -> None:
    """Mark a staff task done."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            org_id = await org_id_for(rt, org)
            task = await session.scalar(select(StaffTask).where(StaffTask.id == task_id,
                                                                StaffTask.org_id == org_id))
            if task is None:
                raise NotFound("no staff task {id}", id=task_id)
            if task.status != "done":
                task.status, task.done_at, task.done_by = "done", rt.clock.now(), by
                await session.commit()
            print_json({"id": task.id, "status": task.status})

    run(main)



def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.add_typer(members_app, name="members")
    app.add_typer(tasks_app, name="tasks")
