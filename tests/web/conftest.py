"""A fresh app per test: its own SQLite file, migrated, with one user of each role and reviews
stored the way production stores them (JSON form -> ingest -> offline draft)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.base import Review
from plugin.classify import classifier_for
from plugin.commands.main import cli
from plugin.context import get_db, get_policy
from plugin.drafting import draft_review
from plugin.pipeline.config import PipelineSettings
from plugin.pipeline.worker import Worker
from plugin.runtime import connector_resolver
from plugin.store.models import DraftRow, ReviewRow
from plugin.store.reviews import ingest, save_draft

from . import webtools
from .webtools import DEMO_PASSWORD, build_app, dispose, login

# Quick to look again at a posted reply, but a retry waits as in production, so a test sees
# the "retry later" outcome instead of the worker retrying at once.
FAST = PipelineSettings(lease_seconds=5, confirm_first_seconds=0.01,
                        publication_check_seconds=0.01, idle_seconds=0.01)


@pytest.fixture(scope="session", autouse=True)
def _template_folder(tmp_path_factory, sqlite_template):
    webtools._TEMPLATE["folder"] = tmp_path_factory.mktemp("template")
    webtools._TEMPLATE["migrated"] = sqlite_template


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory) -> Path:
    """An instance folder loaded by `makeright demo --no-serve`, once per test process; each
    test gets a copy of it (the demo source keeps no path of its own: its replies go to the
    instance folder it is handed)."""
    instance = tmp_path_factory.mktemp("demo") / "instance"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAKERIGHT_INSTANCE", str(instance))
        patch.setenv("MAKERIGHT_DEMO_PASSWORD", DEMO_PASSWORD)
        patch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
        loaded = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert loaded.exit_code == 0, loaded.output
    assert sorted(path.name for path in instance.iterdir()) == ["makeright.sqlite"]
    return instance


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path)
    yield app
    dispose(app)


@pytest.fixture
def csrf_app(tmp_path):
    """The same app with CSRF protection on, as in production."""
    app = build_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    dispose(app)


@pytest.fixture
def seed(app):
    return _seeder(app)


@pytest.fixture
def seed_csrf(csrf_app):
    """One drafted review in the CSRF-protected app."""
    return _seeder(csrf_app)()


def _seeder(app):
    """Store a review through the public path and draft it; returns the row id.

    `draft_text` replaces the drafted text before it is checked and saved, so a test can plant
    hostile or over-long text in a draft exactly as an engine would produce it.
    """
    def store(**fields) -> int:
        data = {"platform": "google_business", "external_id": uuid.uuid4().hex, "rating": 1,
                "source": "demo", "author": "Jane Doe",
                "text": "The delivery was late and the cake arrived damaged.",
                "created_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat()}
        draft_text = fields.pop("draft_text", None)
        answerable = fields.pop("answerable", True)
        data.update(fields)
        review = Review.from_json(data)
        with app.app_context():
            policy = get_policy()
            classifier = classifier_for(policy)
            with get_db().session() as session:
                stored = ingest(session, review, classifier.classify(review),
                                answerable=answerable)
                draft = draft_review(review, policy)
                if draft_text is not None:
                    from plugin.guardrails import check
                    draft.text = draft_text
                    draft.violations = check(draft, review, policy)
                save_draft(session, stored.row, draft)
                return stored.row.id
    return store


@pytest.fixture
def row(app):
    """Read a review row as it is now in the database."""
    def read(review_id: int) -> ReviewRow:
        with app.app_context(), get_db().session() as session:
            return session.get(ReviewRow, review_id)
    return read


@pytest.fixture
def as_role(app):
    """A test client signed in with the given role."""
    def client_for(role: str):
        client = app.test_client()
        response = login(client, role)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return client_for


@pytest.fixture
def work(app):
    """Run the pipeline worker until it is idle (or for `ticks` ticks), as `makeright serve`
    does in the background.

    Replies go through `connector` when given, else through the app's own sources (the demo
    source writes them to the instance folder).
    """
    def run(connector=None, ticks: int | None = None) -> dict[str, int]:
        with app.app_context():
            db, policy = get_db(), get_policy()
        resolve = connector_resolver(db, Path(app.instance_path)) if connector is None \
            else (lambda review: connector)
        worker = Worker(db, policy, name="test-worker", resolve=resolve, settings=FAST)
        if ticks is None:
            return worker.run(once=True)
        totals: dict[str, int] = {}
        for _ in range(ticks):
            for step, count in worker.tick().items():
                totals[step] = totals.get(step, 0) + count
        return totals
    return run


@pytest.fixture
def shown(app):
    """The form fields a review page carries: its draft version and the text on screen."""
    def fields(review_id: int, **extra) -> dict[str, str]:
        with app.app_context(), get_db().session() as session:
            row = session.get(ReviewRow, review_id)
            draft = session.get(DraftRow, row.current_draft_id)
            values = {"version": str(draft.version), "text": draft.text}
        return {**values, **extra}
    return fields
