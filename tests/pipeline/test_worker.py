"""The worker loop, its step registry, the background handle, signals, CLI and migration."""
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner
from conftest import load
from sqlalchemy import inspect, select

from plugin.commands.main import cli
from plugin.pipeline.control import is_paused
from plugin.pipeline.registry import register_step, registered_steps, unregister_step
from plugin.pipeline.worker import Worker, start_background_worker
from plugin.store import migrate, states
from plugin.store.db import Database
from plugin.store.models import AuditRow
from tests.waiting import wait_for

RUN_WORKER = Path(__file__).resolve().parent / "run_worker.py"


def test_steps_run_in_order_and_a_broken_step_does_not_stop_the_rest(database, policy, fast,
                                                                     caplog):
    ran = []
    register_step("test_sync", lambda ctx: ran.append("sync") or 0, order=10)
    register_step("test_broken", lambda ctx: 1 / 0, order=11)
    register_step("test_deliver", lambda ctx: ran.append("deliver") or 0, order=60)
    try:
        names = [s.name for s in registered_steps()]
        assert names.index("test_sync") < names.index("draft") < names.index("post") \
            < names.index("test_deliver")
        Worker(database, policy, name="w1", settings=fast).tick()
    finally:
        for name in ("test_sync", "test_broken", "test_deliver"):
            unregister_step(name)
    assert ran == ["sync", "deliver"]
    assert "action=step.error worker=w1 step=test_broken" in caplog.text


def test_background_worker_posts_and_stops(database, approved, platform, policy, resolve, fast):
    review_id, external_id = approved()
    handle = start_background_worker(database, policy, resolve=resolve, settings=fast)
    wait_for(lambda: load(database, review_id).status == states.POSTED, 10,
             "the background worker to post")
    assert handle.alive
    assert handle.stop(timeout=10)
    assert not handle.alive and handle.totals.get("post") == 1
    assert platform.write_counts()[external_id] == 1


def test_sigterm_stops_a_running_worker(sqlite_url, platform):
    process = subprocess.Popen([sys.executable, str(RUN_WORKER), sqlite_url, platform.base_url,
                                "--idle", "0.1"], stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr],
                     daemon=True).start()
    seen = []
    # Wait for the worker to say it runs (importing it takes seconds on a busy machine).
    while not any("action=worker.start" in line for line in seen):
        assert process.poll() is None, "".join(seen)
        seen.append(lines.get(timeout=120))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    while not any("action=worker.stop" in line for line in seen):
        seen.append(lines.get(timeout=10))  # the worker said goodbye before it exited


def test_pause_and_resume_commands(sqlite_url, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["pause", "--reason", "bad replies", "--actor", "ops"])
    assert result.exit_code == 0, result.output
    database = Database(sqlite_url)
    with database.session() as session:
        assert is_paused(session)
    assert runner.invoke(cli, ["resume", "--actor", "ops"]).output.startswith("resumed")
    with database.session() as session:
        assert not is_paused(session)
        actions = [(a.actor, a.action, a.reason) for a in session.scalars(
            select(AuditRow).where(AuditRow.review_id.is_(None)).order_by(AuditRow.id))]
    assert actions == [("ops", "paused", "bad replies"), ("ops", "resumed", "")]
    database.dispose()


def test_worker_command_once(sqlite_url, monkeypatch, make_review, policy):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", sqlite_url)
    from conftest import store_review
    database = Database(sqlite_url)
    review_id = store_review(database, policy, make_review(), draft=False)
    result = CliRunner().invoke(cli, ["worker", "--once", "--name", "cli-worker"])
    assert result.exit_code == 0, result.output
    assert load(database, review_id).status == states.DRAFTED
    database.dispose()


def test_migration_upgrade_downgrade_upgrade(empty_database_url):
    database = Database(empty_database_url)
    migrate.upgrade(database.engine)
    assert {"settings", "reply_attempts"} <= set(inspect(database.engine).get_table_names())
    migrate.downgrade(database.engine, "0001")
    tables = set(inspect(database.engine).get_table_names())
    assert "settings" not in tables and "reply_attempts" not in tables and "reviews" in tables
    migrate.upgrade(database.engine)
    assert migrate.is_current(database.engine)
    assert {"settings", "reply_attempts"} <= set(inspect(database.engine).get_table_names())
    database.dispose()
