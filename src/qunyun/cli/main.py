"""The `qunyun` command. Each command group lives in its own module with a `register(app)`."""

from __future__ import annotations

import logging
from importlib import import_module

import typer

app = typer.Typer(
    name="qunyun",
    help="群运 qunyun — run brand communities across chat groups.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "qunyun.cli.server",      # serve, migrate
    "qunyun.cli.replay",      # replay
    "qunyun.cli.simulate",    # simulate
    "qunyun.cli.reports",     # stats, members, tasks, orgs, tokens
    "qunyun.cli.playbook",    # playbook check/apply/diff/schema
    "qunyun.cli.bench",       # bench …
    "qunyun.cli.users",       # user create/list/passwd
    "qunyun.cli.demo",        # demo
    "qunyun.cli.points",      # points show/adjust/export/import/recompute
    "qunyun.cli.highlights",  # highlights digest/list
    "qunyun.cli.moderation",  # moderation dry-run
    "qunyun.cli.wecom",       # wecom verify-url/decrypt
    "qunyun.cli.platform",    # platform parse
    "qunyun.cli.blacklist",   # blacklist add/list/remove/share/subscribe
    "qunyun.cli.gate",        # gate codes create/list/revoke
    "qunyun.cli.imports",     # import telegram/qq
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _name in COMMAND_MODULES:
    import_module(_name).register(app)
