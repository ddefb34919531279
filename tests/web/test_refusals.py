"""A refusal no page answers itself shows on the error page, with its message and status,
never as a stack trace or a bare 500."""
from __future__ import annotations

import html

from plugin.context import get_db
from tests.brands import SOURCE, break_policy, follow_copy


def test_a_refusal_raised_deep_inside_a_page_shows_its_message(app, seed, as_role, tmp_path):
    review_id = seed(source=SOURCE)
    with app.app_context(), get_db().session() as session:
        folder = follow_copy(session, tmp_path / "brand")
    client = as_role("editor")
    assert client.get(f"/reviews/{review_id}").status_code == 200
    break_policy(folder)
    response = client.get(f"/reviews/{review_id}")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = html.unescape(response.get_data(as_text=True))
    assert "Error 500" in page
    assert "policy.toml:-: not valid TOML" in page
    assert "Back to the queue" in page
