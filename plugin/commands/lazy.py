"""The command group that imports a command's module only when that command is resolved.

This is click's "Lazily Loading Subcommands" pattern: the group holds "module:attribute" paths,
so `makeright --version` imports no command module and `makeright draft` imports only the one
`draft` lives in. The command modules keep their heavy imports (SQLAlchemy, Alembic, Flask, the
pipeline) inside the functions that use them, so even `makeright --help`, which lists every
command with the short help of its real command object, stays cheap.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose commands are named by import path, plus the group's own setup deferred
    until the chosen subcommand, and any group on its path, has parsed its options:
    `makeright source --help` prints its help without reading the settings or installing the
    event listeners, which still happens before any command runs."""

    def __init__(self, *args: Any, lazy_subcommands: Mapping[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        path = self.lazy_subcommands[cmd_name]
        module_name, _, attribute = path.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{path}, registered as `{cmd_name}`, is not a click command")
        if command.name != cmd_name:
            raise TypeError(f"{path} is the command `{command.name}`, registered as "
                            f"`{cmd_name}`")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        args = [*ctx._protected_args, *ctx.args]
        if self.chain or not args:
            return super().invoke(ctx)
        ctx._protected_args, ctx.args = [], []
        with ctx:
            cmd_name, command, args = self.resolve_command(ctx, args)
            assert command is not None
            ctx.invoked_subcommand = cmd_name
            sub_ctx = command.make_context(cmd_name, args, parent=ctx)
            with sub_ctx:
                _parse_groups_below(sub_ctx)
                click.Command.invoke(self, ctx)
                result = sub_ctx.command.invoke(sub_ctx)
                if self._result_callback is not None:
                    result = ctx.invoke(self._result_callback, result, **ctx.params)
                return result


def _parse_groups_below(ctx: click.Context) -> None:
    """Parse the options of each group further down the command's path, so a nested group's
    `--help` (`makeright webhook inbound --help`) also exits before the setup, and so does the
    final command's when it is asked for (`makeright source add --help`). Otherwise the final
    command's options are parsed once, when it runs: they may prompt or open files."""
    group = ctx.command
    args = [*ctx._protected_args, *ctx.args]
    if not isinstance(group, click.Group) or group.chain or not args:
        return
    cmd_name, command, rest = group.resolve_command(ctx, args)
    if command is None or cmd_name is None:
        return
    if isinstance(command, click.Group):
        with command.make_context(cmd_name, rest, parent=ctx) as sub_ctx:
            _parse_groups_below(sub_ctx)
    elif _asks_for_help(ctx, command, cmd_name, rest):
        # --help is eager: it prints and exits before any other option is converted.
        command.make_context(cmd_name, rest, parent=ctx)


def _asks_for_help(ctx: click.Context, command: click.Command, cmd_name: str,
                   args: list[str]) -> bool:
    """Whether `args` hold the command's help option, read by click's own parser alone: no
    value is converted, prompted for or checked."""
    probe = command.context_class(command, info_name=cmd_name, parent=ctx,
                                  resilient_parsing=True)
    help_option = command.get_help_option(probe)
    if help_option is None:
        return False
    opts, _, _ = command.make_parser(probe).parse_args(args=list(args))
    return help_option.name in opts
