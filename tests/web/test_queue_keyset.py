"""Queue pages followed by their keyset links show every review once, in the order numbered
pages show them; and pages render while another connection holds SQLite's write lock."""
from __future__ import annotations

import re
import sqlite3
from html import unescape

import pytest

from plugin.context import get_db

from .test_queue import ago, ids_on

TEXTS = ["Pizza came cold, 40 min late", "waiter rude af", "Beste Torte der Stadt!!",
         "الطلب وصل متأخر جدا", "parking is a nightmre", "app crashes evry time",
         "Delivery bahut late thi", "cake was dry n overpriced", "lovely staff, slow wifi"]


def next_link(html: str) -> str | None:
    found = re.search(r'rel="next" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def prev_link(html: str) -> str | None:
    found = re.search(r'rel="prev" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


@pytest.mark.parametrize("sort", ["oldest", "newest", "rating", "priority"])
def test_keyset_pages_show_what_numbered_pages_show(app, seed, as_role, sort):
    # Equal timestamps and ratings too: ties are broken by id on both paths.
    same = ago(30)
    for i, text in enumerate(TEXTS * 2):
        seed(created_at=same if i % 3 == 0 else ago(2 + i * 5), rating=1 + i % 3, text=text)
    app.config["QUEUE_PAGE_SIZE"] = 4
    client = as_role("editor")
    numbered = []
    for page in range(1, 6):
        numbered += ids_on(client.get(f"/queue?sort={sort}&page={page}").get_data(as_text=True))
    assert len(numbered) == len(set(numbered)) == len(TEXTS) * 2

    followed, pages, url = [], [], f"/queue?sort={sort}"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append((url, ids_on(html)))
        followed += pages[-1][1]
        url = next_link(html)
        assert url is None or "after=" in url
    assert followed == numbered
    # Back from the last page by the "previous" links gives the same pages again.
    html = client.get(pages[-1][0]).get_data(as_text=True)
    for _url, shown in reversed(pages[:-1]):
        url = prev_link(html)
        assert url is not None
        html = client.get(url).get_data(as_text=True)
        assert ids_on(html) == shown
    assert prev_link(html) is None


def test_a_cursor_to_a_missing_review_falls_back_to_the_page_number(app, seed, as_role):
    ids = [seed(created_at=ago(10 - i), text=text) for i, text in enumerate(TEXTS[:5])]
    app.config["QUEUE_PAGE_SIZE"] = 2
    client = as_role("editor")
    assert ids_on(client.get("/queue?page=2&after=99999").get_data(as_text=True)) == ids[2:4]
    assert ids_on(client.get(f"/queue?page=2&after={ids[1]}").get_data(as_text=True)) == \
        ids[2:4]


def test_pages_render_while_another_connection_holds_the_write_lock(app, seed, as_role):
    review_id = seed(text="Pizza came cold, 40 min late")
    client = as_role("editor")
    with app.app_context():
        path = get_db().engine.url.database
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE reviews SET rating = 5")
        assert review_id in ids_on(client.get("/queue").get_data(as_text=True))
        assert client.get(f"/reviews/{review_id}").status_code == 200
        assert client.get("/insights/").status_code == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()
