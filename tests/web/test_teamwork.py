"""Working the queue as a team, on SQLite and PostgreSQL: assignment (one review and in bulk),
the Mine and Unassigned views, internal notes, snippets, saved views and the most-urgent sort,
with every refusal a role or a missing CSRF token earns, and messy text shown escaped."""
from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin.accounts import add_user
from plugin.app import create_app
from plugin.context import get_db
from plugin.policy import PolicyError, load_policy
from plugin.store.db import Database
from plugin.store.models import AuditRow, DraftRow
from plugin.store.teamwork import NoteRow, SavedViewRow, SnippetRow

from .conftest import _seeder
from .webtools import PASSWORD, ROLES, csrf_token, make_config

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
MESSY = "Kunde ruft zurück 📞🙂 — العميل غاضب جداً <script>alert(1)</script> & \"quotes\""


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def _users(url: str) -> None:
    database = Database(url)
    with database.session() as session:
        for role in ROLES:
            add_user(session, role, role, PASSWORD)
    database.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    """The web app on a fresh database of either engine, with one user per role."""
    _users(database_url)
    app = create_app(make_config(tmp_path, DATABASE_URL=database_url))
    yield app
    with app.app_context():
        get_db().dispose()


def _audit(app, action: str) -> list[AuditRow]:
    with app.app_context(), get_db().session() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.action == action)
                                    .order_by(AuditRow.id)))


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


def test_assign_from_the_review_page_and_find_it_under_mine(seed, as_role, row, app):
    mine, other = seed(text="Cold soup."), seed(text="Late order.")
    editor = as_role("editor")
    answer = editor.post(f"/reviews/{mine}/assign", data={"me": "1", "back": "/queue"})
    assert answer.status_code == 302 and "ok=assigned" in answer.location
    assert row(mine).assignee == "editor"

    listed = editor.get("/queue?assignee=me").get_data(as_text=True)
    assert _ids(listed) == [mine]
    assert "→ editor" in listed
    assert _ids(editor.get("/queue?assignee=none").get_data(as_text=True)) == [other]
    # "Mine" is the signed-in person's: the approver has nothing assigned.
    assert _ids(as_role("approver").get("/queue?assignee=me").get_data(as_text=True)) == []

    page = editor.get(f"/reviews/{mine}").get_data(as_text=True)
    assert "Assigned to <strong>editor</strong>" in page
    assert editor.post(f"/reviews/{mine}/assign", data={"assignee": ""}).status_code == 302
    assert row(mine).assignee is None
    audited = [(a.review_id, a.actor, a.reason) for a in _audit(app, "assigned")]
    assert audited == [(mine, "editor", "to editor")]
    assert [(a.review_id, a.reason) for a in _audit(app, "unassigned")] == [(mine, "was editor")]


def test_assignment_refusals(seed, as_role, row):
    review = seed()
    assert as_role("viewer").post(f"/reviews/{review}/assign",
                                  data={"me": "1"}).status_code == 403
    refused = as_role("editor").post(f"/reviews/{review}/assign", data={"assignee": "viewer"})
    assert refused.status_code == 422
    assert "is not an active person who can edit" in refused.get_data(as_text=True)
    unknown = as_role("editor").post(f"/reviews/{review}/assign", data={"assignee": "nobody"})
    assert unknown.status_code == 422
    assert row(review).assignee is None


def test_bulk_assign_and_unassign(seed, as_role, row, app):
    first, second, left = seed(), seed(), seed()
    editor = as_role("editor")
    done = editor.post("/queue/bulk", data={"action": "assign", "assignee": "approver",
                                            "ids": [str(first), str(second)], "back": "/queue"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Assigned to approver." in done.get_data(as_text=True)
    assert (row(first).assignee, row(second).assignee, row(left).assignee) == \
        ("approver", "approver", None)
    assert sorted(a.review_id for a in _audit(app, "assigned")) == [first, second]
    listed = as_role("approver").get("/queue?assignee=me").get_data(as_text=True)
    assert sorted(_ids(listed)) == [first, second]

    editor.post("/queue/bulk", data={"action": "assign", "assignee": "", "ids": [str(first)]})
    assert row(first).assignee is None
    bad = editor.post("/queue/bulk", data={"action": "assign", "assignee": "viewer",
                                           "ids": [str(left)]})
    assert bad.status_code == 422 and row(left).assignee is None
    assert as_role("viewer").post("/queue/bulk", data={
        "action": "assign", "assignee": "viewer", "ids": [str(left)]}).status_code == 403
    # The confirmation step publishes; it never takes another action.
    assert as_role("approver").post("/queue/bulk/confirm", data={
        "action": "assign", "items": [f"{left}:1"]}).status_code == 400


def test_notes_are_escaped_kept_apart_from_replies_and_audited(seed, as_role, app):
    review = seed()
    editor = as_role("editor")
    added = editor.post(f"/reviews/{review}/notes", data={"note": MESSY, "back": "/queue"})
    assert added.status_code == 302 and "ok=noted" in added.location

    page = editor.get(f"/reviews/{review}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "العميل غاضب جداً" in page and "📞🙂" in page
    note_block = page[page.index('id="notes"'):page.index('id="note-form"')]
    assert "<strong>editor</strong>" in note_block and " UTC" in note_block

    with app.app_context(), get_db().session() as session:
        notes = list(session.scalars(select(NoteRow)))
        drafts = list(session.scalars(select(DraftRow.text)))
    assert [(n.author, n.text) for n in notes] == [("editor", MESSY)]
    assert drafts and not any("alert(1)" in text or "📞" in text for text in drafts)
    [audited] = _audit(app, "note_added")
    assert (audited.review_id, audited.actor, audited.reason) == \
        (review, "editor", f"note {notes[0].id}")

    approver = as_role("approver")
    for path in ("/insights/export.jsonl?since=365d", "/insights/export.csv?since=365d"):
        exported = approver.get(path).get_data(as_text=True)
        assert "alert(1)" not in exported and "العميل" not in exported, path


def test_note_refusals(seed, as_role):
    review = seed()
    assert as_role("viewer").post(f"/reviews/{review}/notes",
                                  data={"note": "hi"}).status_code == 403
    empty = as_role("editor").post(f"/reviews/{review}/notes", data={"note": "  \n "})
    assert empty.status_code == 422 and "The note is empty." in empty.get_data(as_text=True)
    long = as_role("editor").post(f"/reviews/{review}/notes", data={"note": "x" * 2001})
    assert long.status_code == 422 and "longer than 2000" in long.get_data(as_text=True)


def _snippet(app, title: str) -> SnippetRow:
    with app.app_context(), get_db().session() as session:
        return session.scalars(select(SnippetRow).where(SnippetRow.title == title)).one()


def test_approvers_keep_snippets_and_editors_cannot(as_role, app):
    approver = as_role("approver")
    assert approver.get("/settings/snippets").status_code == 200
    assert as_role("editor").get("/settings/snippets").status_code == 403
    assert as_role("editor").post("/settings/snippets", data={
        "language": "en", "title": "t", "text": "x"}).status_code == 403

    made = approver.post("/settings/snippets", data={"language": "ar", "title": "اعتذار",
                                                      "text": "نعتذر <b>بشدة</b> 🙏"})
    assert made.status_code == 302
    page = approver.get("/settings/snippets").get_data(as_text=True)
    assert "نعتذر &lt;b&gt;بشدة&lt;/b&gt; 🙏" in page and "<b>بشدة</b>" not in page

    clash = approver.post("/settings/snippets", data={"language": "AR", "title": "اعتذار",
                                                       "text": "again"})
    assert clash.status_code == 422 and "title: There is already" in clash.get_data(as_text=True)
    bad = approver.post("/settings/snippets", data={"language": "en us", "title": "t",
                                                     "text": "x"})
    assert bad.status_code == 422 and "language: The language must be" in \
        bad.get_data(as_text=True)

    snippet = _snippet(app, "اعتذار")
    assert as_role("editor").post(f"/settings/snippets/{snippet.id}", data={
        "language": "ar", "title": "x", "text": "y"}).status_code == 403
    changed = approver.post(f"/settings/snippets/{snippet.id}",
                            data={"language": "ar", "title": "اعتذار", "text": "شكراً"})
    assert changed.status_code == 302 and _snippet(app, "اعتذار").text == "شكراً"
    assert approver.post(f"/settings/snippets/{snippet.id}/delete").status_code == 302
    assert approver.post(f"/settings/snippets/{snippet.id}/delete").status_code == 404
    assert [a.action for a in _audit(app, "snippet_added") + _audit(app, "snippet_changed")
            + _audit(app, "snippet_deleted")] == ["snippet_added", "snippet_changed",
                                                  "snippet_deleted"]
    assert _audit(app, "snippet_deleted")[0].actor == "approver"


def test_a_snippet_is_inserted_without_javascript_and_checked_when_saved(seed, as_role, shown,
                                                                         app, row):
    review = seed()
    approver = as_role("approver")
    approver.post("/settings/snippets", data={"language": "en", "title": "Blunt",
                                              "text": "Honestly, not our fault."})
    approver.post("/settings/snippets", data={"language": "de", "title": "Nur deutsch",
                                              "text": "Vielen Dank."})
    snippet = _snippet(app, "Blunt")
    editor = as_role("editor")
    page = editor.get(f"/reviews/{review}").get_data(as_text=True)
    assert 'data-text="Honestly, not our fault."' in page
    assert "Nur deutsch" not in page  # only snippets in the reply's language are offered

    fields = shown(review)
    inserted = editor.post(f"/reviews/{review}/snippet",
                           data={**fields, "snippet": str(snippet.id)})
    assert inserted.status_code == 200
    editor_text = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>',
                            inserted.get_data(as_text=True), re.S).group(1)
    assert editor_text.endswith("\n\nHonestly, not our fault.")
    assert row(review).current_draft_id is not None
    with app.app_context(), get_db().session() as session:
        assert "not our fault" not in session.get(DraftRow, row(review).current_draft_id).text

    saved = editor.post(f"/reviews/{review}/save",
                        data={**fields, "text": fields["text"] + "\n\nHonestly, not our fault."})
    assert saved.status_code == 302 and "ok=saved_issues" in saved.location
    assert row(review).violation_count > 0
    missing = editor.post(f"/reviews/{review}/snippet", data={**fields, "snippet": "999"})
    assert missing.status_code == 422
    assert as_role("viewer").post(f"/reviews/{review}/snippet", data={
        **fields, "snippet": str(snippet.id)}).status_code == 403


def test_saved_views_belong_to_their_person(seed, as_role, app):
    seed(rating=1)
    editor = as_role("editor")
    query = "?rating=1&sort=priority&q=cake"
    saved = editor.post("/queue/views", data={"name": "Angry 1★ <i>cake</i>", "query": query})
    assert saved.status_code == 302 and saved.location.endswith(query)
    listed = editor.get("/queue").get_data(as_text=True)
    assert "Angry 1★ &lt;i&gt;cake&lt;/i&gt;" in listed
    assert f'href="/queue{query.replace("&", "&amp;")}"' in listed
    assert "Angry" not in as_role("approver").get("/queue").get_data(as_text=True)

    # Saving under the same name replaces the view.
    editor.post("/queue/views", data={"name": "Angry 1★ <i>cake</i>", "query": "?rating=2"})
    with app.app_context(), get_db().session() as session:
        views = list(session.scalars(select(SavedViewRow)))
    assert [v.query for v in views] == ["?rating=2"]
    assert editor.post("/queue/views", data={"name": " ", "query": ""}).status_code == 422
    assert as_role("approver").post(f"/queue/views/{views[0].id}/delete").status_code == 404
    assert editor.post(f"/queue/views/{views[0].id}/delete").status_code == 302
    assert "Angry" not in editor.get("/queue").get_data(as_text=True)
    assert [a.reason for a in _audit(app, "view_deleted")] == ["Angry 1★ <i>cake</i>"]
    # A viewer may keep views too: they only read the queue.
    assert as_role("viewer").post("/queue/views", data={"name": "Mine",
                                                        "query": "?assignee=me"}).status_code == 302


@pytest.fixture
def policy_dir(tmp_path) -> Path:
    """The bundled policy with a tight target for complaints and a loose one for praise."""
    folder = tmp_path / "policy"
    shutil.copytree(PROMPTS, folder)
    toml = folder / "policy.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "response_target_hours = 48",
        "response_target_hours = 48\nresponse_target_hours_by_rating = {1 = 4, 5 = 72}"),
        encoding="utf-8")
    return folder


@pytest.fixture
def urgent_app(database_url, tmp_path, policy_dir):
    _users(database_url)
    app = create_app(make_config(tmp_path, DATABASE_URL=database_url,
                                 POLICY_DIR=str(policy_dir)))
    yield app
    with app.app_context():
        get_db().dispose()


def test_most_urgent_sort_and_badges_follow_the_target_per_rating(urgent_app):
    seed = _seeder(urgent_app)
    complaint = seed(rating=1, created_at=ago(5), text="Rude staff.")        # 1 h past due
    praise = seed(rating=5, created_at=ago(60), text="Lovely, thank you!")    # due in 12 h
    middling = seed(rating=3, created_at=ago(30), text="It was fine.")        # due in 18 h
    old_praise = seed(rating=5, created_at=ago(80), text="Great as always.")  # 8 h past due
    client = urgent_app.test_client()
    client.post("/login", data={"name": "viewer", "password": PASSWORD})

    page = client.get("/queue?sort=priority").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'href="/reviews/(\d+)\?back', page)]
    assert order == [old_praise, complaint, praise, middling]
    assert "1 ★ 4 h" in page and "5 ★ 72 h" in page and "Most urgent" in page

    badges = dict(re.findall(r'href="/reviews/(\d+)\?back.*?class="age ?([a-z]*)"', page, re.S))
    assert badges == {str(old_praise): "late", str(complaint): "overdue", str(praise): "",
                      str(middling): ""}
    overdue = client.get("/queue?overdue=yes&sort=priority").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/reviews/(\d+)\?back', overdue)] == \
        [old_praise, complaint]

    back = "/queue?sort=priority"
    review = client.get(f"/reviews/{complaint}", query_string={"back": back})
    links = review.get_data(as_text=True)
    assert f'href="/reviews/{old_praise}?back=' in links.split('id="prev-link"')[0]
    assert re.search(rf'href="/reviews/{praise}\?back=[^"]*" rel="next"', links)
    assert "Overdue · over 4 h" in links


@pytest.mark.parametrize(("value", "named"), [
    ("{6 = 4}", "brand.response_target_hours_by_rating: '6' is not a star rating"),
    ("{1 = 0}", "brand.response_target_hours_by_rating.1: must be a whole number of hours"),
    ("{1 = \"soon\"}", "brand.response_target_hours_by_rating.1: must be a whole number"),
    ("4", "brand.response_target_hours_by_rating: must be a table"),
])
def test_a_bad_target_per_rating_is_refused_naming_the_key(tmp_path, value, named):
    folder = tmp_path / "policy"
    shutil.copytree(PROMPTS, folder)
    toml = folder / "policy.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "response_target_hours = 48",
        f"response_target_hours = 48\nresponse_target_hours_by_rating = {value}"),
        encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy(folder)
    assert named in str(refused.value)


def test_targets_per_rating_fall_back_to_the_single_target(policy_dir):
    assert load_policy(policy_dir).response_targets == {1: 4, 2: 48, 3: 48, 4: 48, 5: 72}
    assert load_policy(PROMPTS).response_targets == {r: 48 for r in range(1, 6)}


def test_every_teamwork_form_needs_a_csrf_token(csrf_app, seed_csrf):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"name": "approver", "password": PASSWORD,
                                "csrf_token": csrf_token(page)})
    token = csrf_token(client.get(f"/reviews/{seed_csrf}").get_data(as_text=True))
    posts = [(f"/reviews/{seed_csrf}/assign", {"me": "1"}),
             (f"/reviews/{seed_csrf}/notes", {"note": "call back"}),
             ("/queue/views", {"name": "v", "query": "?rating=1"}),
             ("/settings/snippets", {"language": "en", "title": "t", "text": "x"}),
             ("/queue/bulk", {"action": "assign", "assignee": "approver",
                              "ids": str(seed_csrf)})]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 400, path
        accepted = client.post(path, data={**data, "csrf_token": token})
        assert accepted.status_code in (200, 302), (path, accepted.status_code)
