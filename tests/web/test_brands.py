"""Several brands in one install: each source follows its own policy (and location), each
review is drafted with its own brand, contact and offers, and the queue shows and filters by
the policy a draft followed."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from connectors.base import Review
from plugin.classify import classifier_for
from plugin.commands.main import cli
from plugin.context import get_db, get_policy
from plugin.drafting import get_drafter
from plugin.pipeline.steps import draft_new
from plugin.policy import load_policy
from plugin.sources.brands import set_source_policy
from plugin.sources.models import SourceRow
from plugin.starters import write_starter
from plugin.store.models import DraftRow, ReviewRow
from plugin.store.reviews import ingest

from .webtools import login

REVIEWS = {
    "ledger-play": [("google_play", 1, "app crashes every time i open it. useless"),
                    ("google_play", 2, "charged twice for premium!!"),
                    ("google_play", 1, "no sincroniza y perdí mis registros")],
    "miramar-gbp": [("google_business", 1, "Air conditioning didn't work, couldn't sleep"),
                    ("google_business", 2, "room wasn't ready, check-in took ages"),
                    ("google_business", 1, "Chambre bruyante, impossible de dormir")],
    "lupita-downtown": [("google_business", 1, "waited 50 minutes and the waiter was rude"),
                        ("google_business", 2, "got the wrong order, asked for chicken"),
                        ("google_business", 1, "overcharged on the bill")],
}


def test_three_sources_on_three_policies(app, tmp_path, monkeypatch):
    folders = {kind: write_starter(tmp_path / kind, kind)
               for kind in ("app", "hotel", "restaurant")}
    follows = {"ledger-play": ("app", None), "miramar-gbp": ("hotel", None),
               "lupita-downtown": ("restaurant", "downtown")}
    with app.app_context():
        default = get_policy()
        db = get_db()
        with db.session() as session:
            for name, (kind, location) in follows.items():
                session.add(SourceRow(name=name, kind="demo", settings={}))
                session.flush()
                set_source_policy(session, name, str(folders[kind]), location, default)
            # A review from a source that names no policy follows the default one.
            session.add(SourceRow(name="cafe-gbp", kind="demo", settings={}))
            for name, items in {**REVIEWS, "cafe-gbp": [
                    ("google_business", 1, "delivery was late, an hour late")]}.items():
                for platform, rating, text in items:
                    review = Review.from_json({
                        "platform": platform, "external_id": uuid.uuid4().hex,
                        "rating": rating, "source": name, "author": "Kim Lee", "text": text,
                        "created_at": (datetime.now(UTC)
                                       - timedelta(hours=2)).isoformat()})
                    ingest(session, review, classifier_for(default).classify(review))
        drafted, failed = draft_new(db, default, get_drafter("offline"), "test",
                                    lease=timedelta(minutes=1), limit=50)
        assert (drafted, failed) == (10, 0)

        expected = {"ledger-play": load_policy(folders["app"]),
                    "miramar-gbp": load_policy(folders["hotel"]),
                    "lupita-downtown": load_policy(folders["restaurant"]).at("downtown"),
                    "cafe-gbp": default}
        with db.session() as session:
            rows = session.query(ReviewRow).all()
            assert len(rows) == 10
            for row in rows:
                policy = expected[row.source]
                draft = session.get(DraftRow, row.current_draft_id)
                assert row.policy == policy.label
                # The brand's sign-off in its default language; the language's own team
                # sign-off elsewhere, so no reply ends in another language.
                voice = policy.voice_for(row.platform)
                own = policy.templates[draft.language].strings.get("sign_off", "")
                signs = (voice.sign_off, own.format(brand=voice.brand))
                assert any(sign and sign in draft.text for sign in signs), draft.text
                assert policy.contact["email"] in draft.text, draft.text
                assert draft.violations == [], (draft.text, draft.violations)
                others = [p for s, p in expected.items() if s != row.source]
                assert not [p.brand["name"] for p in others if p.brand["name"] in draft.text]
                if draft.offer_id:
                    assert policy.offer(draft.offer_id) is not None, (row.source,
                                                                      draft.offer_id)
            offers = {row.source: {session.get(DraftRow, r.current_draft_id).offer_id
                                   for r in rows if r.source == row.source} for row in rows}
        assert offers["ledger-play"] == {"priority_support", "subscription_check"}
        assert offers["miramar-gbp"] == {"room_upgrade", "late_checkout"}
        assert offers["lupita-downtown"] == {"dessert_on_us", "remake_dish",
                                             "check_correction"}
        assert offers["cafe-gbp"] == {"refund_delivery_fee"}

    client = app.test_client()
    login(client, "editor")
    page = client.get("/queue").get_data(as_text=True)
    for label in ("Pocket Ledger", "Hotel Miramar", "Casa Lupita · Downtown", "Harbour Lane"):
        assert f'title="The policy this draft followed">{label}<' in page, label
    only = client.get("/queue?brand=Hotel+Miramar").get_data(as_text=True)
    assert "Air conditioning" in only and "app crashes" not in only
    assert "Rosa, Casa Lupita Downtown" not in only
    with app.app_context(), get_db().session() as session:
        hotel_id = session.query(ReviewRow.id).filter_by(source="miramar-gbp").first()[0]
    review_page = client.get(f"/reviews/{hotel_id}").get_data(as_text=True)
    assert "policy Hotel Miramar" in review_page
    assert "Upgrade on the next stay" in review_page or "Late check-out" in review_page

    # `policy check` checks the default policy and every policy a source follows.
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.delenv("MAKERIGHT_POLICY_DIR", raising=False)
    result = CliRunner().invoke(cli, ["policy", "check"])
    assert result.exit_code == 0, result.output
    assert "Pocket Ledger (sources ledger-play)" in result.output
    assert "Casa Lupita · Downtown (sources lupita-downtown)" in result.output
    assert "Hotel Miramar (sources miramar-gbp)" in result.output
    # A policy in use that breaks is named with its folder, and the check fails.
    hotel = folders["hotel"] / "policy.toml"
    hotel.write_text(hotel.read_text("utf-8").replace('gives.de = "ein Upgrade', 'gives.xx = "ein'),
                     "utf-8")
    broken = CliRunner().invoke(cli, ["policy", "check"])
    assert broken.exit_code == 1
    assert f"{folders['hotel']}: policy.toml:offers.room_upgrade.gives: missing for de" \
        in broken.output


def test_insights_split_by_brand(app, tmp_path):
    folder = write_starter(tmp_path / "hotel", "hotel")
    with app.app_context():
        default = get_policy()
        db = get_db()
        with db.session() as session:
            session.add(SourceRow(name="miramar-gbp", kind="demo", settings={}))
            session.flush()
            set_source_policy(session, "miramar-gbp", str(folder), None, default)
            for source, text in (("miramar-gbp", "noisy, couldn't sleep at all"),
                                 ("miramar-gbp", "room wasn't ready at 5pm"),
                                 ("", "delivery was late, an hour late")):
                review = Review.from_json({
                    "platform": "google_business", "external_id": uuid.uuid4().hex,
                    "rating": 1, "source": source, "author": "Kim", "text": text,
                    "created_at": (datetime.now(UTC) - timedelta(hours=5)).isoformat()})
                ingest(session, review, classifier_for(default).classify(review))
        draft_new(db, default, get_drafter("offline"), "test", lease=timedelta(minutes=1),
                  limit=10)
    client = app.test_client()
    login(client, "viewer")
    every = client.get("/insights/report.json").get_json()
    hotel = client.get("/insights/report.json?brand=Hotel+Miramar").get_json()
    cafe = client.get("/insights/report.json?brand=Harbour+Lane").get_json()
    assert (every["received"], hotel["received"], cafe["received"]) == (3, 2, 1)
    page = client.get("/insights/?brand=Hotel+Miramar").get_data(as_text=True)
    assert '<option value="Hotel Miramar" selected>Hotel Miramar</option>' in page
