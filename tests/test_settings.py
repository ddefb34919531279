"""Settings are read from the environment in one place, checked there, and documented.

- plugin/config.py is the only module of plugin/ or connectors/ that reads `os.environ` (read
  with `ast`, a failure names file:line); the `makeright` group hands `os.environ` to it once,
  and a subprocess may be given an `env=`.
- every variable Settings reads is in the README, and the README names no variable that does
  not exist.
- a bad value is refused with the variable's name and what it expects.
"""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.commands.main import cli
from plugin.config import APP_SETTINGS, Settings, SettingsError
from tests.architecture import ROOT

#: The one module that reads the environment.
READER = "plugin/config.py"
#: Where the command line starts: it may pass `os.environ` to `Invocation.start`, nothing else.
ENTRY = "plugin/commands/main.py"
ENV_NAMES = frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"})
#: Variables the README names that are not settings: the test suite's own switches, and the
#: Flask switches it says are ignored.
README_NOT_SETTINGS = frozenset({
    "MAKERIGHT_TEST_POSTGRES_URL", "MAKERIGHT_UPDATE_SCREENSHOTS",
    "MAKERIGHT_LOGIN_DISABLED", "MAKERIGHT_WTF_CSRF_ENABLED",
})


def _allowed(node: ast.AST, parents: dict[ast.AST, ast.AST], shown: str) -> bool:
    """An environment read at `node` that is allowed: the CLI entry handing `os.environ` to
    Invocation.start, or an `env=` given to a subprocess."""
    parent = parents.get(node)
    if shown == ENTRY and isinstance(parent, ast.Call) and node in parent.args \
            and ast.unparse(parent.func).endswith("Invocation.start"):
        return True
    while parent is not None:
        if isinstance(parent, ast.keyword) and parent.arg == "env":
            return True
        parent = parents.get(parent)
    return False


def environment_reads(root: Path = ROOT) -> list[str]:
    """`file:line: what` for each read of the environment outside plugin/config.py."""
    found = []
    for package in ("plugin", "connectors"):
        for path in sorted((root / package).rglob("*.py")):
            shown = path.relative_to(root).as_posix()
            if shown == READER:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
            parents = {child: node for node in ast.walk(tree)
                       for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES \
                        and isinstance(node.value, ast.Name) and node.value.id == "os":
                    if not _allowed(node, parents, shown):
                        found.append(f"{shown}:{node.lineno}: os.{node.attr}")
                elif isinstance(node, ast.ImportFrom) and node.module == "os":
                    names = [a.name for a in node.names if a.name in ENV_NAMES]
                    if names:
                        found.append(f"{shown}:{node.lineno}: from os import "
                                     f"{', '.join(names)}")
    return found


def test_only_the_settings_module_reads_the_environment():
    assert environment_reads() == [], "read the value from Settings (plugin/config.py) instead"


def test_an_environment_read_is_named_with_its_file_and_line(tmp_path):
    files = {
        "plugin/config.py": "import os\nVALUE = os.environ.get('MAKERIGHT_X')\n",
        "plugin/mail.py": "import os\n\n\ndef url():\n    return os.getenv('MAKERIGHT_SMTP')\n",
        "plugin/keys.py": "from os import environ\n",
        "plugin/commands/main.py": "import os\n\nInvocation.start(os.environ)\n"
                                   "print(os.environ['HOME'])\n",
        "plugin/run.py": "import os, subprocess\n"
                         "subprocess.run(['x'], env={**os.environ, 'A': '1'})\n",
        "connectors/http.py": "import os\nTOKEN = os.environ['TOKEN']\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    assert environment_reads(tmp_path) == [
        "plugin/commands/main.py:4: os.environ", "plugin/keys.py:1: from os import environ",
        "plugin/mail.py:5: os.getenv", "connectors/http.py:2: os.environ"]


def test_no_part_of_the_service_arms_a_failpoint():
    """Failpoints are armed only by a test harness calling `failpoints.arm`; no setting and
    no module of plugin/ does, so no variable in production can make a worker kill itself."""
    callers = [f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
               for path in sorted((ROOT / "plugin").rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "arm"]
    assert callers == []
    assert not any("FAILPOINT" in variable.name for variable in Settings.variables())


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = {variable.name for variable in Settings.variables()}
    undocumented = sorted(name for name in names if f"`{name}" not in readme)
    assert undocumented == [], "document these settings in the README"
    mentioned = set(re.findall(r"\bMAKERIGHT_[A-Z0-9_]*[A-Z0-9]", readme))
    unknown = sorted(mentioned - names - README_NOT_SETTINGS)
    assert unknown == [], "the README names variables that no setting reads"


def test_defaults_match_the_documented_ones(tmp_path):
    settings = Settings.from_env({}, instance=tmp_path)
    assert settings.paths.instance == tmp_path.resolve() and settings.paths.policy_dir is None
    assert settings.database.url is None and settings.secrets.keys is None
    assert settings.app_config() == {
        "SECRET_KEY": "", "DATABASE_URL": None, "POLICY_DIR": None, "PROXY_HOPS": 0,
        "LOGIN_FREE_ATTEMPTS": 3, "LOGIN_FREE_ATTEMPTS_PER_ADDRESS": 20,
        "LOGIN_BASE_DELAY_SECONDS": 1.0, "LOGIN_MAX_DELAY_SECONDS": 900.0,
        "LOGIN_WINDOW_MINUTES": 60, "QUEUE_PAGE_SIZE": 50, "WEBHOOK_SECRETS": None,
        "WEBHOOK_MAX_BYTES": None, "WEBHOOK_WAIT_SECONDS": None, "GOOGLE_PUBSUB_TOKEN": None}
    assert tuple(settings.app_config()) == APP_SETTINGS
    assert (settings.worker.lease_seconds, settings.worker.poll_seconds) == (None, None)
    assert (settings.llm.timeout, settings.llm.concurrency, settings.llm.daily_token_budget,
            settings.llm.max_review_chars, settings.llm.max_attempts,
            settings.llm.structured_output) == (60.0, 8, 1_000_000, 3000, 3, "auto")
    assert settings.webhooks.allow_private is False


def test_values_are_typed_and_the_instance_comes_from_the_environment(tmp_path):
    settings = Settings.from_env({
        "MAKERIGHT_INSTANCE": str(tmp_path / "inst"), "MAKERIGHT_POLICY_DIR": str(tmp_path),
        "MAKERIGHT_PROXY_HOPS": "2", "MAKERIGHT_LOGIN_BASE_DELAY_SECONDS": "0.5",
        "MAKERIGHT_WEBHOOK_MAX_BYTES": "2048", "MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS": "yes",
        "MAKERIGHT_WORKER_LEASE_SECONDS": "900", "MAKERIGHT_SMTP_URL": "smtp://mail:25",
        "MAKERIGHT_SECRET_KEYS": "k1,k2", "MAKERIGHT_DEMO_PASSWORD": "p",
        "MAKERIGHT_LLM_TEMPERATURE": "0.2", "MAKERIGHT_SECRET_KEY": "   padded   "})
    assert settings.paths.instance == (tmp_path / "inst").resolve()
    assert settings.paths.policy_dir == tmp_path
    assert settings.web.proxy_hops == 2 and settings.web.login_base_delay_seconds == 0.5
    assert settings.webhooks.max_bytes == 2048 and settings.webhooks.allow_private is True
    assert settings.worker.lease_seconds == 900.0 and settings.mail.smtp_url == "smtp://mail:25"
    assert settings.secrets.keys == "k1,k2" and settings.accounts.demo_password == "p"
    assert settings.llm.temperature == 0.2
    assert settings.web.secret_key == "   padded   ", "a secret is kept as written"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("MAKERIGHT_PROXY_HOPS", "11", "a whole number of reverse proxies from 0 to 10, got '11'"),
    ("MAKERIGHT_LOGIN_FREE_ATTEMPTS", "three", "a whole number of at least 0, got 'three'"),
    ("MAKERIGHT_LOGIN_WINDOW_MINUTES", "0", "a whole number of minutes of at least 1"),
    ("MAKERIGHT_QUEUE_PAGE_SIZE", "2.5", "a whole number of reviews of at least 1"),
    ("MAKERIGHT_WEBHOOK_WAIT_SECONDS", "-1", "a number of seconds of at least 0, got '-1'"),
    ("MAKERIGHT_LOGIN_MAX_DELAY_SECONDS", "inf", "a number of seconds"),
    ("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "maybe", "1/true/yes or 0/false/no, got 'maybe'"),
    ("MAKERIGHT_WORKER_LEASE_SECONDS", "abc", "'abc' is not a number of seconds"),
    ("MAKERIGHT_WORKER_LEASE_SECONDS", "30", "shorter than the minimum of 60 s"),
    ("MAKERIGHT_WORKER_POLL_SECONDS", "7200", "outside 0.1-3600 s"),
    ("MAKERIGHT_LLM_CONCURRENCY", "0", "a whole number of at least 1, got '0'"),
    ("MAKERIGHT_LLM_STRUCTURED_OUTPUT", "xml", "one of auto, json_schema, prompt, got 'xml'"),
    ("MAKERIGHT_LLM_TIMEOUT", "soon", "a number of seconds of at least 0, got 'soon'"),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value, expected):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(f"{name}: ") and expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_blank_values_keep_the_defaults_and_other_names_are_not_read():
    environ = {"MAKERIGHT_PROXY_HOPS": "  ", "MAKERIGHT_LOGIN_DISABLED": "true",
               "MAKERIGHT_WTF_CSRF_ENABLED": "false", "MAKERIGHT_FAILPOINT": "x",
               "OTHER_QUEUE_PAGE_SIZE": "3"}
    assert Settings.from_env(environ, instance="/srv/mr") == Settings.from_env(
        {}, instance="/srv/mr")


def test_makeright_settings_prints_the_effective_settings_with_secrets_hidden(tmp_path):
    secret = "f3b1c0d2e4a59687" * 4
    result = CliRunner().invoke(cli, ["settings"], env={
        "MAKERIGHT_INSTANCE": str(tmp_path), "MAKERIGHT_SECRET_KEY": secret,
        "MAKERIGHT_DATABASE_URL": "postgresql://mr:hunter2@db/mr",
        "MAKERIGHT_QUEUE_PAGE_SIZE": "25", "OPENAI_API_KEY": "sk-live-123"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"MAKERIGHT_INSTANCE={tmp_path.resolve()}" in lines
    assert "MAKERIGHT_QUEUE_PAGE_SIZE=25" in lines
    assert "MAKERIGHT_SECRET_KEY=(set, hidden)" in lines
    assert "MAKERIGHT_DATABASE_URL=(set, hidden)" in lines
    assert "MAKERIGHT_SECRET_KEYS=(not set)" in lines
    for hidden in (secret, "hunter2", "sk-live-123"):
        assert hidden not in result.output
    assert len(lines) == len({v.name for v in Settings.variables()}) - 1  # base URL: one row


def test_a_bad_setting_stops_any_command_with_its_name(tmp_path):
    result = CliRunner().invoke(cli, ["settings"], env={
        "MAKERIGHT_INSTANCE": str(tmp_path), "MAKERIGHT_LLM_MAX_ATTEMPTS": "many"})
    assert result.exit_code == 1
    assert "MAKERIGHT_LLM_MAX_ATTEMPTS: must be a whole number of at least 1, got 'many'" \
        in result.output
