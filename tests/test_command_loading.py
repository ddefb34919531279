"""`makeright` loads a command's module only when the command is resolved, yet lists every
command with the short help of its real command object, and starting it for `--help` or
`--version` imports none of the engines, the store or the web app (checked by what is imported,
not by a stopwatch; `bench/cli_start.py` measures the time)."""
from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

import plugin.commands
from plugin.commands.lazy import LazyGroup
from plugin.commands.main import COMMANDS, cli

WIDTH = 80


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                            click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path + (name,))} is listed but not found"
            yield from _walk(sub, path + (name,))


def _listed(output: str) -> dict[str, str]:
    """The `Commands:` section of a help page: name -> the short help shown beside it."""
    section = output.split("\nCommands:\n", 1)[1]
    rows = [line.split(None, 1) for line in section.splitlines() if line.startswith("  ")]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def test_the_listing_shows_each_registered_command_by_its_name_and_own_short_help():
    result = CliRunner().invoke(cli, ["--help"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    listed = _listed(result.output)
    ctx = click.Context(cli, terminal_width=WIDTH)
    commands = {name: cli.get_command(ctx, name) for name in COMMANDS}
    limit = ctx.make_formatter().width - 6 - max(map(len, commands))
    assert listed == {name: command.get_short_help_str(limit)
                      for name, command in commands.items() if command is not None}
    assert all(command is not None and command.name == name
               for name, command in commands.items())


def test_every_command_defined_in_the_command_modules_is_reachable_from_makeright():
    reachable = {id(command) for _, command in _walk(cli)}
    unreachable = []
    for module_info in pkgutil.iter_modules(plugin.commands.__path__, "plugin.commands."):
        module = importlib.import_module(module_info.name)
        unreachable += [f"{module_info.name}:{attribute}"
                        for attribute, value in vars(module).items()
                        if isinstance(value, click.Command) and id(value) not in reachable]
    assert unreachable == []


def test_a_path_naming_another_command_is_refused_with_both_names():
    group = LazyGroup(lazy_subcommands={"halt": "plugin.commands.worker:pause"})
    with pytest.raises(TypeError, match="plugin.commands.worker:pause is the command `pause`, "
                                        "registered as `halt`"):
        group.get_command(click.Context(group), "halt")


LOADED_FOR_HELP = textwrap.dedent("""
    import json, sys
    import click
    from plugin.commands.main import cli

    def groups(command, path):
        if isinstance(command, click.Group):
            yield path
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from groups(command.get_command(ctx, name), path + [name])

    runs = [["--version"], ["source", "add", "--help"]] + \
        [path + ["--help"] for path in groups(cli, [])]
    for args in runs:
        try:
            cli.main(args, prog_name="makeright", standalone_mode=False)
        except SystemExit:
            pass
    heavy = ("sqlalchemy", "alembic", "flask", "jsonschema", "requests", "cryptography",
             "plugin.runtime", "plugin.store", "plugin.api", "plugin.drafting", "plugin.policy")
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in heavy
                    or any(name.startswith(h + ".") or name == h for h in heavy))
    print(json.dumps({"runs": runs, "loaded": loaded}))
""")


def test_help_and_version_import_no_engine_store_or_web_app():
    done = subprocess.run([sys.executable, "-c", LOADED_FOR_HELP], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert ["webhook", "inbound", "--help"] in found["runs"]
    assert found["loaded"] == []


def test_the_setup_runs_before_any_command_but_not_for_help_or_version(tmp_path):
    bad = {"MAKERIGHT_INSTANCE": str(tmp_path), "MAKERIGHT_LLM_MAX_ATTEMPTS": "many"}
    runner = CliRunner()
    for args in (["--help"], ["--version"], ["source", "--help"], ["draft", "--help"],
                 ["webhook", "inbound", "--help"], ["source", "add", "--help"],
                 ["webhook", "inbound", "list", "--help"]):
        result = runner.invoke(cli, args, env=bad)
        assert result.exit_code == 0, (args, result.output)
    for args in (["settings"], ["source", "list"], ["webhook", "inbound", "list"]):
        result = runner.invoke(cli, args, env=bad)
        assert result.exit_code == 1, (args, result.output)
        assert "Error: MAKERIGHT_LLM_MAX_ATTEMPTS: must be a whole number" in result.output
