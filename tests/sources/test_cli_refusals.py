"""The command line's one answer to a refusal raised deep inside a command: `Error: <message>`
on stderr and exit status 1, never a traceback."""
from __future__ import annotations

from plugin.commands.main import cli
from tests.brands import SOURCE, break_policy, follow_copy


def test_a_refusal_raised_deep_inside_a_command_is_a_plain_error(instance, runner, tmp_path):
    database = instance.database()
    with database.session() as session:
        folder = follow_copy(session, tmp_path / "brand")
    database.dispose()
    break_policy(folder)
    result = runner.invoke(cli, ["sync", SOURCE])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: policy.toml:-: not valid TOML")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
