"""From one review to the next within the view it was opened from: next and previous follow the
view's filters and sort, and "approve and next" / "skip and next" land on the following review
with the outcome of the one just handled."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def links(html: str) -> dict[str, int]:
    found = {}
    for rel in ("prev", "next"):
        match = re.search(rf'href="/reviews/(\d+)[^"]*" rel="{rel}"', html)
        if match:
            found[rel] = int(match.group(1))
    return found


def test_next_and_previous_follow_the_filters_and_the_sort(seed, as_role):
    old = seed(rating=1, created_at=ago(50), text="Cake smashed, driver shrugged.")
    praise = seed(rating=5, created_at=ago(40), text="Lecker!! Danke euch", language="de")
    middle = seed(rating=1, created_at=ago(30), text="app crash at login again smh")
    new = seed(rating=2, created_at=ago(2), text="Entrega atrasada, bolo amassado", language="pt")
    client = as_role("viewer")

    back = quote("/queue?rating=1", safe="")
    html = client.get(f"/reviews/{old}?back={back}").get_data(as_text=True)
    assert links(html) == {"next": middle}  # the 5 and 2 star reviews are not in this view
    html = client.get(f"/reviews/{middle}?back={back}").get_data(as_text=True)
    assert links(html) == {"prev": old}
    previous = re.search(r'href="([^"]*)" rel="prev"', html).group(1)
    assert "rating%3D1" in previous  # the link keeps the view

    newest = quote("/queue?sort=newest", safe="")
    html = client.get(f"/reviews/{middle}?back={newest}").get_data(as_text=True)
    assert links(html) == {"prev": new, "next": praise}

    lowest = quote("/queue?sort=rating", safe="")
    html = client.get(f"/reviews/{middle}?back={lowest}").get_data(as_text=True)
    assert links(html) == {"prev": old, "next": new}

    # Without a queue address the default view (open, oldest first) applies.
    html = client.get(f"/reviews/{praise}").get_data(as_text=True)
    assert links(html) == {"prev": old, "next": middle}


def test_approve_and_next_lands_on_the_following_review(seed, as_role, shown, row):
    first = seed(created_at=ago(20))
    second = seed(created_at=ago(10), text="wrong order twice, nobody answers the phone")
    client = as_role("approver")
    response = client.post(f"/reviews/{first}/approve?then=next",
                           data=shown(first, post="0", back="/queue"))
    assert response.status_code == 302
    assert re.search(rf"/reviews/{second}\?ok=approved&after={first}&back=/queue$",
                     response.headers["Location"])
    assert row(first).status == "approved"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Review #{first}: approved" in html


def test_skip_and_next_then_the_end_of_the_view_returns_to_the_queue(seed, as_role, row):
    first = seed(created_at=ago(20))
    last = seed(created_at=ago(10), text="meh")
    client = as_role("editor")
    back = "/queue?status=drafted"
    response = client.post(f"/reviews/{first}/skip?then=next",
                           data={"reason": "spam, not a customer", "back": back})
    assert f"/reviews/{last}?" in response.headers["Location"]
    assert row(first).status == "skipped"
    response = client.post(f"/reviews/{last}/skip?then=next",
                           data={"reason": "duplicate", "back": back})
    assert response.headers["Location"].endswith(back)


def test_a_hostile_back_address_cannot_steer_next(seed, as_role):
    one = seed(created_at=ago(20))
    two = seed(created_at=ago(10))
    client = as_role("viewer")
    for back in ("//evil.example/queue?rating=9", "/queue?sort=drop%20table&page=-1",
                 "/queue?rating=%00", "https://evil.example/"):
        html = client.get(f"/reviews/{one}?back={quote(back, safe='')}").get_data(as_text=True)
        assert links(html) == {"next": two}
        assert "evil.example" not in html
