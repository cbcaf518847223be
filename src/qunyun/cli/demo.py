"""Command: `qunyun demo` — a brand with a month of history and a login, to look around."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from qunyun.app.demo import (
    DEMO_SLUG,
    DEMO_USERNAME,
    DemoParams,
    DemoResult,
    build_demo,
    database_state,
    expected_events,
)
from qunyun.cli.common import ConfigOption, DbOption, config_for, run
from qunyun.cli.replay import QuietOption, progress_bar
from qunyun.core.config import Config
from qunyun.core.i18n import gettext

out = Console(highlight=False, soft_wrap=True)
DEFAULTS = DemoParams()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    seed: Annotated[int, typer.Option(help="Random seed of the simulated history.")]
    = DEFAULTS.seed,
    members: Annotated[int, typer.Option(help="Number of members.", min=50)] = DEFAULTS.members,
    groups: Annotated[int, typer.Option(
        help="Number of groups (9 or more: every purpose type).", min=9)] = DEFAULTS.groups,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Only on a database without any organization; else do nothing.")]
    = False,
    db: DbOption = None, quiet: QuietOption = False, config: ConfigOption = None,
) -> None:
    """Create the demo brand 示例品牌: groups, 2,000 members, 30 days of history, a login."""
    settings = config_for(db, config)
    locale = settings.language
    if if_empty:
        state = run(lambda: database_state(settings))
        if state.demo_org_id is not None:
            print_result(DemoResult(created=False, org_id=state.demo_org_id), settings)
        if state.organizations:
            return
    params = DemoParams(seed=seed, members=members, groups=groups)
    description = gettext("Building the demo", locale)
    now = datetime.now(UTC)  # the history ends at this moment
    with progress_bar(description, expected_events(params), by_bytes=False,
                      quiet=quiet) as on_progress:
        result = run(lambda: build_demo(settings, params, now=now, on_progress=on_progress))
    print_result(result, settings)


def print_result(result: DemoResult, settings: Config) -> None:
    locale = settings.language
    if not result.created:
        out.print(gettext("The demo exists already (organization {slug}); nothing changed.",
                          locale, slug=DEMO_SLUG))
        command = f"qunyun user passwd --username {DEMO_USERNAME} --org {DEMO_SLUG}"
        out.print(gettext("Forgot its password? Set a new one with: {command}", locale,
                          command=command))
        return
    out.print(gettext("Demo ready: {groups} groups, {persons} members, {events} events.",
                      locale, groups=result.groups, persons=f"{result.persons:,}",
                      events=f"{result.events:,}"))
    out.print(gettext("Sign in at {url}", locale, url=f"http://{settings.host}:{settings.port}/"))
    out.print(gettext("Username: {username}", locale, username=result.username))
    out.print(gettext("Password: {password}", locale, password=result.password or ""))
    out.print(gettext("The password is shown only this once.", locale))
