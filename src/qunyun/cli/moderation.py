"""Commands: `qunyun moderation dry-run` — try a rule set on the last days of history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from qunyun.app.moderation_dryrun import (
    DryRunReport,
    current_settings,
    dry_run,
    find_groups,
    settings_from_json,
    settings_from_toml,
)
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
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.i18n import gettext
from qunyun.features.moderation.settings import ModerationSettings

moderation_app = typer.Typer(help="Moderation: try rule sets on history.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(moderation_app, name="moderation")


def _rule_set(playbook: Path | None, settings_json: str | None) -> ModerationSettings | None:
    if playbook is not None and settings_json is not None:
        raise InvalidInput("give either {a} or {b}, not both", a="--playbook",
                           b="--settings-json")
    if playbook is not None:
        if not playbook.is_file():
            raise NotFound("no such file: {path}", path=str(playbook))
        return settings_from_toml(playbook.read_text(encoding="utf-8"), source=str(playbook))
    if settings_json is not None:
        return settings_from_json(settings_json, source="--settings-json")
    return None


def _print(report: DryRunReport) -> None:
    print_table(gettext("What the rules would have caught"), [
        {"at": h.at.isoformat(timespec="minutes"), "group": h.group_id, "member": h.name,
         "rule": h.rule, "category": h.category,
         "match": h.text[h.start:h.end] if h.start >= 0 else h.matched, "action": h.action,
         "text": h.text[:60]} for h in report.hits])
    console.print(gettext("{caught} of {messages} messages caught ({members} members); by rule: "
                          "{rules}", caught=report.caught, messages=report.messages,
                          members=len(report.people),
                          rules=", ".join(f"{k} {v}" for k, v in sorted(report.by_rule.items()))
                          or "–"))


@moderation_app.command("dry-run")
def dry_run_command(
        group: Annotated[list[str], typer.Option(
            "--group", "-g", help="Group number or platform:group id (repeatable).")],
        playbook: Annotated[Path | None, typer.Option(
            help="TOML with [features.moderation] (a playbook works).")] = None,
        settings_json: Annotated[str | None, typer.Option(
            "--settings-json", help="The [features.moderation] keys as a JSON object.")] = None,
        days: Annotated[int, typer.Option(help="How many days of history.")] = 30,
        until: Annotated[str | None, typer.Option(
            help="End of the history tried (RFC 3339; default: now).")] = None,
        db: DbOption = None, org: OrgOption = "default", json: JsonOption = False) -> None:
    """What a rule set (default: each group's current one) would have caught, message by
    message. Nothing is changed."""

    async def main() -> None:
        rule_set = _rule_set(playbook, settings_json)
        end = _parse_until(until)
        async with open_runtime(config_for(db)) as rt, rt.sessions() as session:
            org_id = await org_id_for(rt, org)
            group_ids = await find_groups(session, org_id=org_id, refs=group)
            settings = {g: rule_set for g in group_ids} if rule_set is not None else \
                await current_settings(session, rt.registry, org_id=org_id, group_ids=group_ids)
            report = await dry_run(session, org_id=org_id, settings=settings, until=end,
                                   days=days)
        if json:
            print_json(report.as_dict())
        else:
            _print(report)

    run(main)


def _parse_until(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("{option} is not a valid time: {value}", option="--until",
                           value=value) from None
    if at.tzinfo is None:
        raise InvalidInput("{option} must include a UTC offset, e.g. +08:00", option="--until")
    return at
