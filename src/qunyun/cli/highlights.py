"""`qunyun highlights digest|list`: a group's weekly digest as Markdown or standalone HTML, and
its highlights."""

from __future__ import annotations

import sys
from pathlib import Path
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
    run,
)
from qunyun.community.queries import find_group
from qunyun.core.errors import InvalidInput
from qunyun.core.i18n import gettext
from qunyun.features.highlights.digest import build_digest, render_markdown
from qunyun.features.highlights.effective import group_highlights_settings
from qunyun.features.highlights.service import list_highlights
from qunyun.features.highlights.weeks import Week
from qunyun.web.engagement.highlights import digest_html
from qunyun.web.templating import build_environment

GroupOption = Annotated[str, typer.Option("--group", "-g",
                                          help="Group: platform:id or its number.")]
highlights_app = typer.Typer(help="Highlights (群精华) and their weekly digest.",
                             no_args_is_help=True)
FORMATS = ("md", "html")


@highlights_app.command("digest")
def digest(group: GroupOption,
           week: Annotated[str | None, typer.Option(
               help="ISO week, e.g. 2026-W47 (default: the current one).")] = None,
           fmt: Annotated[str, typer.Option(
               "--format", "-f", help="md (Markdown) or html (a standalone page).")] = "md",
           out: Annotated[Path | None, typer.Option(
               "--out", "-o", help="Write to this file instead of printing.")] = None,
           db: DbOption = None, org: OrgOption = "default") -> None:
    """A group's weekly digest, in the group's language."""

    async def main() -> None:
        if fmt not in FORMATS:
            raise InvalidInput("--format must be one of: {choices}", choices=", ".join(FORMATS))
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            target = await find_group(session, await org_id_for(rt, org), group)
            cfg = await group_highlights_settings(session, target)
            now = rt.clock.now()
            chosen = Week.parse(week) if week else cfg.time.week_of(now)
            made = await build_digest(session, group_id=target.id, group_name=target.name,
                                      week=chosen, time=cfg.time)
        text = render_markdown(made, cfg.language) if fmt == "md" else \
            digest_html(build_environment(), made, cfg.language)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            console.print(gettext("Wrote {path}", path=str(out)))

    run(main)


@highlights_app.command("list")
def list_command(group: GroupOption, db: DbOption = None, org: OrgOption = "default",
                 json: JsonOption = False,
                 history: Annotated[bool, typer.Option(
                     help="Include highlights removed since.")] = False) -> None:
    """A group's highlights, newest first."""

    async def main() -> None:
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            target = await find_group(session, await org_id_for(rt, org), group)
            rows = await list_highlights(session, group_id=target.id, with_history=history)
        data = [{"id": r.id, "message_id": r.message_id, "author": r.author_name,
                 "kind": r.kind, "text": r.text, "posted": r.posted_at.isoformat(),
                 "marked": r.marked_at.isoformat(), "marked_by": r.marked_by,
                 "unmarked": r.unmarked_at.isoformat() if r.unmarked_at else None}
                for r in rows]
        if json:
            print_json(data)
            return
        if not data:
            console.print(gettext("Nothing to show."))
        for r in rows:
            gone = "  (-)" if r.unmarked_at else ""
            sys.stdout.write(f"{r.marked_at:%Y-%m-%d %H:%M}  {r.author_name}: {r.text}{gone}\n")

    run(main)


def register(app: typer.Typer) -> None:
    app.add_typer(highlights_app, name="highlights")
