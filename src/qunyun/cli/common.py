"""What every command shares: `--db`, `--org`, the config, building the runtime, errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qunyun.app.bootstrap import DEFAULT_ORG_SLUG, Runtime, build_runtime, ensure_default_org
from qunyun.community.service import get_organization_by_slug
from qunyun.core.clock import Clock
from qunyun.core.config import Config, load_config
from qunyun.core.errors import QunyunError
from qunyun.core.i18n import gettext

T = TypeVar("T")

console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file path (default: data/qunyun.db).",
                 envvar="QUNYUN_DATABASE_URL", show_envvar=True),
]
OrgOption = Annotated[
    str, typer.Option("--org", help="Organization slug.", envvar="QUNYUN_ORG"),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: ./qunyun.toml).",
                              envvar="QUNYUN_CONFIG"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

DEFAULT_ORG = DEFAULT_ORG_SLUG


def database_url(db: str | None) -> str | None:
    """Accept a full URL or a plain SQLite file path."""
    if db is None or "://" in db:
        return db
    return f"sqlite+aiosqlite:///{Path(db).resolve()}"


def config_for(db: str | None, config_file: Path | None = None, **overrides: Any) -> Config:
    return load_config(config_file, database_url=database_url(db), **overrides)


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async command; a QunyunError becomes a clear message and exit code 2."""
    try:
        return asyncio.run(_call(coro_fn))
    except QunyunError as exc:
        console.print(f"[red]{exc.code}[/red]: {escape(str(exc))}")
        raise typer.Exit(2) from exc


async def _call(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


@asynccontextmanager
async def open_runtime(config: Config, *, clock: Clock | None = None,
                       replay: bool = False) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(config, clock=clock, replay=replay)
    try:
        yield runtime
    finally:
        await runtime.close()


async def org_id_for(runtime: Runtime, slug: str) -> int:
    """The organization to work on; the default one is created on first use."""
    if slug == DEFAULT_ORG:
        return await ensure_default_org(runtime.write_sessions, datetime.now(UTC))
    async with runtime.sessions() as session:
        return (await get_organization_by_slug(session, slug)).id


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    """Rows of the same keys as a table (the keys are the columns)."""
    if not rows:
        console.print(gettext("Nothing to show."))
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                                  default=str).decode() + "\n")
