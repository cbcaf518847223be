"""Commands: serve, migrate, org create, token create."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from qunyun.app.server import serve as serve_api
from qunyun.cli.common import (
    DEFAULT_ORG,
    ConfigOption,
    DbOption,
    OrgOption,
    config_for,
    console,
    open_runtime,
    org_id_for,
    run,
)
from qunyun.community.service import do_create_community, do_create_organization, do_create_token
from qunyun.db.migrate import current_heads

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on.")]
PortOption = Annotated[int | None, typer.Option("--port", help="Port to listen on.")]


class TokenKind(StrEnum):
    api = "api"
    bridge = "bridge"


def serve(db: DbOption = None, host: HostOption = None, port: PortOption = None,
          config: ConfigOption = None) -> None:
    """Migrate the database, then serve the API, delivery and the scheduler."""
    settings = config_for(db, config, host=host, port=port)
    run(lambda: serve_api(settings))


def migrate(db: DbOption = None, config: ConfigOption = None) -> None:
    """Bring the database schema up to date."""

    async def work() -> None:
        async with open_runtime(config_for(db, config)) as runtime:
            heads = await current_heads(runtime.engine)
        console.print(f"database at revision {', '.join(sorted(heads))}")

    run(work)


def create_org(slug: Annotated[str, typer.Argument(help="Short name: a-z, 0-9 and dashes.")],
               name: Annotated[str, typer.Argument(help="Display name.")],
               db: DbOption = None, config: ConfigOption = None) -> None:
    """Create an organization, with a first community of the same name."""

    async def work() -> None:
        async with open_runtime(config_for(db, config)) as runtime, runtime.sessions() as session:
            now = runtime.clock.now()
            org = await do_create_organization(session, name=name, slug=slug, at=now)
            await do_create_community(session, org_id=org.id, name=name, at=now)
            await session.commit()
        console.print(f"organization {slug} created (id {org.id})")

    run(work)


def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    kind: Annotated[TokenKind, typer.Option("--kind", help="api: the REST API; bridge: a "
                                                           "bridge program.")] = TokenKind.api,
    org: OrgOption = DEFAULT_ORG, db: DbOption = None, config: ConfigOption = None,
) -> None:
    """Create a token and print it; it is shown only this once."""

    async def work() -> str:
        async with open_runtime(config_for(db, config)) as runtime:
            org_id = await org_id_for(runtime, org)
            async with runtime.sessions() as session:
                token = await do_create_token(session, org_id=org_id, name=name,
                                              kind=kind.value, at=runtime.clock.now())
                await session.commit()
        return token

    token = run(work)
    sys.stdout.write(token + "\n")
    console.print("Keep this token now: it is not shown again.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("migrate")(migrate)
    org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
    org_app.command("create")(create_org)
    app.add_typer(org_app, name="org")
    token_app = typer.Typer(help="API and bridge tokens.", no_args_is_help=True)
    token_app.command("create")(create_token)
    app.add_typer(token_app, name="token")
