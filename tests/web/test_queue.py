"""The queue list, one review page, roles on every route, and escaping of hostile text."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugin"


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


def test_queue_lists_counts_and_filters(seed, as_role):
    one = seed(rating=1, platform="google_play", text="The app keeps crashing on start.")
    two = seed(rating=2, platform="app_store", text="Login loop, asks for my password.")
    five = seed(rating=5, text="Lovely cakes, thank you!", language="fr")
    client = as_role("editor")
    html = client.get("/queue").get_data(as_text=True)
    assert set(ids_on(html)) == {one, two, five}
    assert re.search(r'Drafted <span class="count">3</span>', html)
    assert ids_on(client.get("/queue?rating=1").get_data(as_text=True)) == [one]
    assert ids_on(client.get("/queue?platform=app_store").get_data(as_text=True)) == [two]
    assert ids_on(client.get("/queue?status=posted").get_data(as_text=True)) == []
    assert ids_on(client.get("/queue?offer=yes&rating=1").get_data(as_text=True)) == [one]


def test_escalated_and_violation_filters(seed, as_role):
    escalated = seed(text="I got food poisoning and ended up in hospital.")
    flawed = seed(draft_text="Sorry! Email me at someone@else.example for a refund of €50.")
    clean = seed()
    client = as_role("viewer")
    html = client.get("/queue?escalated=yes").get_data(as_text=True)
    assert f"/reviews/{escalated}" in html and f"/reviews/{clean}" not in html
    html = client.get("/queue?violations=yes").get_data(as_text=True)
    assert f"/reviews/{flawed}" in html and f"/reviews/{clean}" not in html
    html = client.get("/queue?violations=no&escalated=no").get_data(as_text=True)
    assert f"/reviews/{clean}" in html and f"/reviews/{flawed}" not in html


def test_sorting_and_pages(app, seed, as_role):
    old = seed(created_at=ago(50), rating=3, text="Slow service today.")
    mid = seed(created_at=ago(20), rating=1, text="Rude cashier.")
    new = seed(created_at=ago(1), rating=2, text="Cold coffee.")
    app.config["QUEUE_PAGE_SIZE"] = 2
    client = as_role("editor")
    assert ids_on(client.get("/queue").get_data(as_text=True)) == [old, mid]
    page2 = client.get("/queue?page=2").get_data(as_text=True)
    assert ids_on(page2) == [new] and "3–3 of 3" in page2
    assert ids_on(client.get("/queue?sort=newest").get_data(as_text=True)) == [new, mid]
    assert ids_on(client.get("/queue?sort=rating").get_data(as_text=True)) == [mid, new]
    assert ids_on(client.get("/queue?page=abc&sort=nonsense").get_data(as_text=True)) == [old, mid]


def test_overdue_badge_uses_the_policy_target(seed, as_role):
    late = seed(created_at=ago(49), text="Waited ages.")
    fresh = seed(created_at=ago(2), text="Waited ages too.")
    html = as_role("viewer").get("/queue").get_data(as_text=True)
    items = {int(k): bool(v) for k, v in re.findall(
        r'/reviews/(\d+)\?back[^"]*"(?:(?!data-row).)*?class="age( overdue)?"', html, re.S)}
    assert items == {late: True, fresh: False}


def test_review_page_shows_the_review_and_draft(seed, as_role):
    review_id = seed(platform="app_store", title="Charged twice", rating=1,
                     text="I was charged twice for one order.",
                     metadata={"app_version": "3.4.0", "territory": "GBR"},
                     reply={"text": "We are looking into it."})
    html = as_role("viewer").get(f"/reviews/{review_id}").get_data(as_text=True)
    for expected in ("Charged twice", "I was charged twice", "App version", "3.4.0", "GBR",
                     "We are looking into it.", "billing", "/ 5970 chars", "Correct the charge"):
        assert expected in html
    assert "Approve" not in html and "Save and check" not in html  # a viewer only reads


def test_google_business_counts_bytes(seed, as_role):
    review_id = seed(draft_text="Très désolés, Jane — merci.")
    html = as_role("editor").get(f"/reviews/{review_id}").get_data(as_text=True)
    used = len("Très désolés, Jane — merci.".encode())
    assert f'<span id="counter-used">{used}</span> / 4096 bytes' in html


def test_missing_review_is_404(as_role):
    assert as_role("viewer").get("/reviews/999").status_code == 404


ROUTES = [("save", {"text": "Thank you, we are sorry."}), ("regenerate", {}),
          ("approve", {}), ("post", {}), ("unapprove", {}), ("skip", {"reason": "spam"}),
          ("escalate", {"reason": "legal"})]
NEEDS = {"save": "editor", "regenerate": "editor", "skip": "editor", "escalate": "editor",
         "approve": "approver", "post": "approver", "unapprove": "approver"}
LEVEL = {"viewer": 0, "editor": 1, "approver": 2, "admin": 3}


@pytest.mark.parametrize("role", ["viewer", "editor", "approver", "admin"])
@pytest.mark.parametrize("action,data", ROUTES)
def test_every_action_checks_the_role(seed, as_role, role, action, data):
    review_id = seed()
    response = as_role(role).post(f"/reviews/{review_id}/{action}", data=data)
    if LEVEL[role] < LEVEL[NEEDS[action]]:
        assert response.status_code == 403
    else:
        assert response.status_code in (302, 409, 422), response.status_code


@pytest.mark.parametrize("role,status", [("viewer", 403), ("editor", 403), ("approver", 403),
                                         ("admin", 200)])
def test_settings_are_for_admins(as_role, role, status):
    client = as_role(role)
    for page in ("/settings/users", "/settings/sources", "/settings/policy"):
        assert client.get(page).status_code == status


def test_admin_adds_people_but_keeps_an_admin(app, as_role):
    admin = as_role("admin")
    response = admin.post("/settings/users", data={"name": "maya", "role": "approver",
                                                  "password": "long enough pass"})
    assert response.status_code == 302
    assert "maya" in admin.get("/settings/users").get_data(as_text=True)
    short = admin.post("/settings/users", data={"name": "li", "role": "editor",
                                               "password": "short"})
    assert short.status_code == 422
    html = admin.get("/settings/users").get_data(as_text=True)
    admin_id = re.search(r'action="/settings/users/(\d+)"[^>]*id="user-\d+">\s*<input[^>]*>\s*'
                         r'<select name="role" aria-label="Role of admin"', html).group(1)
    demote = admin.post(f"/settings/users/{admin_id}", data={"role": "editor", "active": "1"})
    assert demote.status_code == 422 and "last active admin" in demote.get_data(as_text=True)


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag == "script":
            assert attrs.get("src") == "/static/app.js", attrs
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            assert not (attrs.get(name) or "").lower().startswith("javascript:"), (tag, attrs)


HOSTILE = '<script>alert(1)</script> " onmouseover="x javascript:alert(1)'


def test_hostile_review_and_draft_text_render_as_text(seed, as_role):
    # Entities survive ingest as literal characters, which is how a <script> reaches the store.
    review_id = seed(text="&lt;script&gt;alert(1)&lt;/script&gt; \" onmouseover=\"x "
                          "javascript:alert(1)",
                     title='" onmouseover="x', author="javascript:alert(1)",
                     metadata={"location": HOSTILE, HOSTILE: "x"},
                     draft_text=HOSTILE)
    client = as_role("approver")
    for page in ("/queue", f"/reviews/{review_id}"):
        html = client.get(page).get_data(as_text=True)
        assert_inert(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    edited = client.post(f"/reviews/{review_id}/save", data={"text": HOSTILE + " v2",
                                                             "version": "1"})
    assert edited.status_code == 302
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert_inert(html)
    assert "markup" in html or "HTML" in html  # the guardrail names the problem


def test_templates_never_mark_user_data_safe():
    for path in [*PLUGIN.joinpath("templates").rglob("*.html"),
                 *PLUGIN.joinpath("web").rglob("*.py")]:
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path
        assert "Markup(" not in text, path
        assert "autoescape false" not in text, path


def test_exports_need_the_approver_role(app, as_role):
    assert as_role("editor").get("/insights/export.csv").status_code == 403
    assert as_role("viewer").get("/insights/").status_code == 200
    assert as_role("approver").get("/insights/export.csv").status_code == 200
