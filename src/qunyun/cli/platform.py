"""Commands: `platform parse` — what qunyun reads from a platform's raw payload.

`qunyun platform parse --platform onebot|telegram|wecom FILE` prints the canonical events
(bridge protocol JSON Lines) on standard output; payloads that cannot be read, or that carry
nothing for qunyun, are named on standard error. Exit code 1 when a payload was rejected.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from qunyun.cli.common import console
from qunyun.core.i18n import gettext

PLATFORMS = ("onebot", "telegram", "wecom")
platform_app = typer.Typer(help="Look at platform payloads as qunyun reads them.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")


@platform_app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(help="A raw payload file (JSON, JSON Lines or XML).",
                                         exists=True, dir_okay=False, readable=True)],
    platform: Annotated[str, typer.Option("--platform", help="onebot, telegram or wecom.")],
) -> None:
    """Print the canonical events for a raw platform payload."""
    if platform not in PLATFORMS:
        console.print(gettext("unknown platform {name}; choose one of: {choices}",
                              name=platform, choices=", ".join(PLATFORMS)))
        raise typer.Exit(2)
    try:
        diagnose = import_module(f"qunyun.platforms.{platform}.diagnose")
    except ModuleNotFoundError:
        console.print(gettext("the {name} adapter has no payload parser yet", name=platform))
        raise typer.Exit(2) from None
    raw = file.read_text(encoding="utf-8-sig")
    try:
        items: list[dict[str, Any]] = diagnose.parse_payload(raw)
    except ValueError as exc:
        console.print(gettext("the payload cannot be read: {reason}", reason=str(exc)))
        raise typer.Exit(1) from exc
    rejected = False
    for item in items:
        if "v" in item and "type" in item:
            sys.stdout.write(orjson.dumps(item).decode() + "\n")
        else:
            rejected = rejected or "rejected" in item
            console.print(orjson.dumps(item).decode(), markup=False)
    sys.stdout.flush()
    if rejected:
        raise typer.Exit(1)
