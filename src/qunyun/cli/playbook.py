"""Commands: `playbook check|apply|diff|schema` and `settings show|set|unset`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.features import builtin_registry
from qunyun.cli.common import (
    DEFAULT_ORG,
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    open_runtime,
    org_id_for,
    print_json,
    run,
)
from qunyun.community.models import Playbook
from qunyun.community.queries import find_group
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import gettext
from qunyun.pipeline.playbook import (
    GroupDiff,
    GroupSelection,
    PlaybookSpec,
    describe_settings,
    diff_playbook,
    do_apply_playbook,
    do_set_layer_values,
    find_community,
    parse_playbook,
    playbook_schema,
    resolve_selection,
    section_path,
)

CLI_LOCALE = "en"
# Results go to stdout; errors go to stderr through `run`.
out = Console(highlight=False, soft_wrap=True)

FileArgument = Annotated[Path, typer.Argument(help="The playbook file (TOML).", dir_okay=False)]
GroupOption = Annotated[list[str] | None, typer.Option(
    "--group", "-g", help="A group as platform:id or its number; repeat for more.")]
CommunityOption = Annotated[str | None, typer.Option(
    "--community", help="Every active group of the community with this name.")]
TagOption = Annotated[str | None, typer.Option("--tag", help="Every active group with this tag.")]
TypeOption = Annotated[str | None, typer.Option(
    "--type", help="Every active group of this purpose (acquisition, member, course, …).")]
AllOption = Annotated[bool, typer.Option("--all", help="Every active group of the organization.")]


def register(app: typer.Typer) -> None:
    playbook = typer.Typer(help="Check, compare and apply playbook files.", no_args_is_help=True)
    playbook.command("check")(check)
    playbook.command("apply")(apply)
    playbook.command("diff")(diff)
    playbook.command("schema")(schema)
    app.add_typer(playbook, name="playbook")
    settings = typer.Typer(help="Show and change the layered settings.", no_args_is_help=True)
    settings.command("show")(show_settings)
    settings.command("set")(set_settings)
    settings.command("unset")(unset_settings)
    app.add_typer(settings, name="settings")


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput("no such file: {path}", path=str(file)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("cannot read {path} as UTF-8 text", path=str(file)) from exc


def _show(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- playbook ----------------------------------------------------------------------------


def check(file: FileArgument) -> None:
    """Check a playbook file: OK and a summary, or every error with its key path."""

    async def work() -> PlaybookSpec:
        return parse_playbook(_read(file), builtin_registry())

    spec = run(work)
    out.print(gettext("OK: playbook {name} (version {version})", CLI_LOCALE, name=spec.name,
                      version=spec.version), markup=False)
    for section, values in spec.sections.items():
        out.print(f"  {section_path(section)}: {', '.join(values) or '-'}", markup=False)


def apply(file: FileArgument, group: GroupOption = None, community: CommunityOption = None,
          tag: TagOption = None, purpose: TypeOption = None, all_groups: AllOption = False,
          org: OrgOption = DEFAULT_ORG, db: DbOption = None) -> None:
    """Apply a playbook to the selected groups (nothing is applied if anything is wrong)."""
    selection = GroupSelection(tuple(group or ()), community, tag, purpose, all_groups)

    async def work() -> tuple[str, int]:
        text = _read(file)
        async with open_runtime(config_for(db)) as runtime:
            spec = parse_playbook(text, runtime.registry)
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                ids = await resolve_selection(session, org_id=org_id, selection=selection)
                await do_apply_playbook(session, org_id=org_id, spec=spec, source_text=text,
                                        group_ids=ids, at=runtime.clock.now())
                await session.commit()
            return spec.name, len(ids)

    name, count = run(work)
    out.print(gettext("Applied playbook {name} to {count} group(s).", CLI_LOCALE, name=name,
                      count=count), markup=False)


def diff(file: FileArgument, group: GroupOption = None, community: CommunityOption = None,
         tag: TagOption = None, purpose: TypeOption = None, all_groups: AllOption = False,
         as_json: JsonOption = False, org: OrgOption = DEFAULT_ORG, db: DbOption = None) -> None:
    """Show what applying a playbook would change, group by group and key by key."""
    selection = GroupSelection(tuple(group or ()), community, tag, purpose, all_groups)

    async def work() -> list[GroupDiff]:
        text = _read(file)
        async with open_runtime(config_for(db)) as runtime:
            spec = parse_playbook(text, runtime.registry)
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                ids = await resolve_selection(session, org_id=org_id, selection=selection)
                return await diff_playbook(session, runtime.registry, org_id=org_id, spec=spec,
                                           group_ids=ids)

    diffs = run(work)
    if as_json:
        print_json([d.as_dict() for d in diffs])
        return
    for group_diff in diffs:
        _print_diff(group_diff)


def _print_diff(group_diff: GroupDiff) -> None:
    title = f"{group_diff.platform}:{group_diff.platform_id} {group_diff.name}"
    if not group_diff.selected:
        title += " " + gettext("(already uses this playbook)", CLI_LOCALE)
    if not group_diff.changes:
        out.print(title + ": " + gettext("no change", CLI_LOCALE), markup=False)
        return
    out.print(title, markup=False)
    for change in group_diff.changes:
        out.print(f"  {section_path(change.section)}.{change.key}: "
                  f"{_show(change.before)} ({change.before_source}) → "
                  f"{_show(change.after)} ({change.after_source})", markup=False)


def schema() -> None:
    """Print the JSON Schema of playbook files (every registered feature's settings)."""
    print_json(playbook_schema(builtin_registry()))


# --- settings ----------------------------------------------------------------------------


def show_settings(group: Annotated[str, typer.Option("--group", "-g", help=(
                      "The group as platform:id or its number."))],
                  as_json: JsonOption = False, org: OrgOption = DEFAULT_ORG,
                  db: DbOption = None) -> None:
    """Show a group's effective settings: each value and the layer it comes from."""

    async def work() -> dict[str, Any]:
        async with open_runtime(config_for(db)) as runtime:
            org_id = await org_id_for(runtime, org)
            async with runtime.write_sessions() as session:
                row = await find_group(session, org_id=org_id, ref=group)
                playbook = await session.get(Playbook, row.playbook_id) if row.playbook_id \
                    else None
                settings = await describe_settings(session, runtime.registry, group_id=row.id,
                                                   org_id=org_id)
                return {"group": f"{row.platform}:{row.platform_id}", "group_id": row.id,
                        "name": row.name, "playbook": playbook.name if playbook else None,
                        "settings": settings}

    described = run(work)
    if as_json:
        print_json(described)
        return
    table = Table(title=Text(f"{described['group']} {described['name']}"), title_justify="left")
    table.add_column(gettext("Setting", CLI_LOCALE))
    table.add_column(gettext("Value", CLI_LOCALE))
    table.add_column(gettext("Source", CLI_LOCALE))
    for section, keys in described["settings"].items():
        for key, item in keys.items():
            table.add_row(Text(f"{section_path(section)}.{key}"), Text(_show(item["value"])),
                          Text(item["source"]))
    out.print(table)
    if described["playbook"]:
        out.print(gettext("Playbook: {name}", CLI_LOCALE, name=described["playbook"]),
                  markup=False)


LayerGroupOption = Annotated[str | None, typer.Option(
    "--group", "-g", help="Set the group's override (platform:id or its number).")]
LayerCommunityOption = Annotated[str | None, typer.Option(
    "--community", help="Set the layer of the community with this name.")]
OrgWideOption = Annotated[bool, typer.Option(
    "--org-wide", help="Set the organization's layer (under communities, playbooks, groups).")]
AssignmentsArgument = Annotated[list[str], typer.Argument(
    help="FEATURE.KEY=VALUE, the value a TOML literal: signin.points=10 welcome.text='\"Hi\"'.")]
KeysArgument = Annotated[list[str], typer.Argument(help="FEATURE.KEY to remove from the layer.")]


def set_settings(assignments: AssignmentsArgument, group: LayerGroupOption = None,
                 community: LayerCommunityOption = None, org_wide: OrgWideOption = False,
                 org: OrgOption = DEFAULT_ORG, db: DbOption = None) -> None:
    """Set keys at one layer: a group, a community or the whole organization."""

    async def work() -> None:
        changes = _parse_assignments(assignments)
        await _write_layer(db, org, (group, community, org_wide), changes, {})

    run(work)
    out.print(gettext("Settings saved.", CLI_LOCALE), markup=False)


def unset_settings(keys: KeysArgument, group: LayerGroupOption = None,
                   community: LayerCommunityOption = None, org_wide: OrgWideOption = False,
                   org: OrgOption = DEFAULT_ORG, db: DbOption = None) -> None:
    """Remove keys from one layer, so their values fall through to the layers below."""

    async def work() -> None:
        removals: dict[str, list[str]] = {}
        errors = ErrorCollector()
        for item in keys:
            parsed = _split_key(item, errors)
            if parsed:
                removals.setdefault(parsed[0], []).append(parsed[1])
        if errors:
            raise InvalidInput("the settings are not valid", errors=errors.errors)
        await _write_layer(db, org, (group, community, org_wide), {}, removals)

    run(work)
    out.print(gettext("Settings saved.", CLI_LOCALE), markup=False)


def _split_key(item: str, errors: ErrorCollector) -> tuple[str, str] | None:
    """`signin.points` or `features.signin.points` → ("signin", "points")."""
    name = item.strip().removeprefix("features.")
    section, dot, key = name.partition(".")
    if not dot or not section or not key or "." in key:
        errors.add(item, "write FEATURE.KEY, for example signin.points")
        return None
    return section, key


def _parse_assignments(assignments: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`signin.points=10` → {"signin": {"points": 10}}; every mistake is reported at once."""
    changes: dict[str, dict[str, Any]] = {}
    errors = ErrorCollector()
    for item in assignments:
        target, equals, literal = item.partition("=")
        if not equals:
            errors.add(item, "write FEATURE.KEY=VALUE, for example signin.points=10")
            continue
        parsed = _split_key(target, errors)
        if parsed is None:
            continue
        try:
            document = tomllib.loads(f"value = {literal}")
        except tomllib.TOMLDecodeError:
            document = {}
        if set(document) != {"value"}:
            errors.add(f"{section_path(parsed[0])}.{parsed[1]}",
                       "is not a TOML value (put text in quotes)")
            continue
        changes.setdefault(parsed[0], {})[parsed[1]] = document["value"]
    if errors:
        raise InvalidInput("the settings are not valid", errors=errors.errors)
    return changes


async def _write_layer(db: str | None, org: str, layer: tuple[str | None, str | None, bool],
                       changes: dict[str, dict[str, Any]],
                       removals: dict[str, list[str]]) -> None:
    """Write every section in one transaction; all sections' errors are reported together."""
    async with open_runtime(config_for(db)) as runtime:
        org_id = await org_id_for(runtime, org)
        async with runtime.write_sessions() as session:
            scope, scope_id = await _layer_scope(session, org_id, layer)
            errors = ErrorCollector()
            for section in {**changes, **removals}:
                try:
                    await do_set_layer_values(
                        session, runtime.registry, org_id=org_id, scope=scope,
                        scope_id=scope_id, section=section, values=changes.get(section, {}),
                        unset=removals.get(section, ()), at=runtime.clock.now())
                except InvalidInput as exc:
                    errors.errors.extend(exc.errors)
            if errors:
                raise InvalidInput("the settings are not valid", errors=errors.errors)
            await session.commit()


async def _layer_scope(session: AsyncSession, org_id: int,
                       layer: tuple[str | None, str | None, bool]) -> tuple[str, int]:
    group, community, org_wide = layer
    if sum((group is not None, community is not None, org_wide)) != 1:
        raise InvalidInput("choose one layer: --group, --community or --org-wide")
    if group is not None:
        return "group", (await find_group(session, org_id=org_id, ref=group)).id
    if community is not None:
        return "community", await find_community(session, org_id=org_id, name=community)
    return "organization", org_id
