"""Parts are wired in one explicit place (plugin.runtime), never by importing a module: a process
that imports everything but builds nothing has no event listener and no extra worker step."""
import subprocess
import sys
import textwrap

from click.testing import CliRunner

from plugin.commands.main import cli
from plugin.pipeline.registry import registered_steps
from plugin.runtime import build_worker, worker_steps
from plugin.store import states
from plugin.store.db import Database

IMPORT_EVERYTHING = textwrap.dedent("""
    import importlib, pkgutil
    import plugin
    names = [m.name for m in pkgutil.walk_packages(plugin.__path__, "plugin.")
             if not m.name.startswith("plugin.migrations")]
    for name in names:
        importlib.import_module(name)
    from plugin.pipeline import registry
    from plugin.store import states
    print(len(names), len(states.LISTENERS), len(registry._STEPS))
""")


def test_importing_every_module_registers_nothing():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules, listeners, extra_steps = map(int, done.stdout.split())
    assert modules > 80
    assert (listeners, extra_steps) == (0, 0)


def test_the_command_line_installs_events_once(tmp_path, monkeypatch):
    monkeypatch.setattr(states, "LISTENERS", [])
    runner = CliRunner()
    assert runner.invoke(cli, ["policy", "check"]).exit_code == 0
    assert runner.invoke(cli, ["policy", "check"]).exit_code == 0
    assert len(states.LISTENERS) == 1


def test_a_built_worker_runs_the_pipeline_and_the_runtime_steps(sqlite_url, policy,
                                                                monkeypatch, tmp_path):
    monkeypatch.setattr(states, "LISTENERS", [])
    from plugin.pipeline.config import PipelineSettings

    db = Database(sqlite_url)
    try:
        worker = build_worker(db, policy, PipelineSettings(), instance=tmp_path, name="w1")
        names = [step.name for step in worker.steps()]
        assert names == ["sync", "draft", "auto_approve", "reap", "post", "publication",
                         "deliver", "purge", "fold_tallies"]
        assert names == [step.name for step in worker_steps()]
        assert len(states.LISTENERS) == 1
        assert [s.name for s in registered_steps()] == ["draft", "auto_approve", "reap", "post",
                                                        "publication", "fold_tallies"]
    finally:
        db.dispose()


def test_the_app_factory_installs_events(tmp_path, monkeypatch):
    monkeypatch.setattr(states, "LISTENERS", [])
    from plugin.app import create_app

    create_app({"SECRET_KEY": "k3J9vQ2xL8pR4tW7yZ1bN6mC5dF0gH2j", "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "INSTANCE_PATH": str(tmp_path)})
    assert len(states.LISTENERS) == 1
