"""The `makeright` command line.

Commands are named here by import path and loaded only when resolved (see `LazyGroup`), so
`makeright --help` and `makeright --version` import none of the engines, the store or the web
app.
"""
from __future__ import annotations

import os

import click

from .. import __version__
from .console import Invocation, RefusalsAsErrors
from .lazy import LazyGroup

#: Every command of `makeright`, by name: "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "backup": "plugin.commands.insights:backup",
    "db": "plugin.commands.instance:db",
    "demo": "plugin.commands.web:demo",
    "digest": "plugin.commands.insights:digest",
    "draft": "plugin.commands.review_files:draft",
    "eval": "plugin.commands.review_files:eval_",
    "export": "plugin.commands.insights:export_",
    "import": "plugin.commands.review_files:import_",
    "import-play-reviews": "plugin.commands.play_import:import_play_reviews",
    "init": "plugin.commands.instance:init",
    "manifest": "plugin.commands.integrations:manifest",
    "pause": "plugin.commands.worker:pause",
    "policy": "plugin.commands.instance:policy",
    "report": "plugin.commands.insights:report",
    "restore": "plugin.commands.insights:restore",
    "resume": "plugin.commands.worker:resume",
    "secrets": "plugin.commands.sources:secrets",
    "serve": "plugin.commands.web:serve",
    "settings": "plugin.commands.instance:settings_show",
    "source": "plugin.commands.sources:source",
    "sync": "plugin.commands.sources:sync",
    "token": "plugin.commands.integrations:token",
    "user": "plugin.commands.web:user",
    "webhook": "plugin.commands.integrations:webhook",
    "worker": "plugin.commands.worker:worker",
}


class CommandLine(RefusalsAsErrors, LazyGroup):
    """`makeright`: commands loaded when resolved, refusals from any of them as `Error: ...`."""


@click.group(cls=CommandLine, lazy_subcommands=COMMANDS)
@click.version_option(__version__, prog_name="makeright")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """MakeRight: sincere, policy-bound replies to customer reviews, approved by a person."""
    from ..runtime import install_events

    ctx.obj = Invocation.start(os.environ)
    install_events()


def main() -> None:
    cli(prog_name="makeright")


if __name__ == "__main__":
    main()
