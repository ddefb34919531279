import json
from datetime import UTC, datetime

import pytest

from connectors.base import Review, ReviewError, reply_length
from connectors.text import normalise_text, strip_invisible

VALID = {"platform": "google_play", "external_id": "gp:123", "rating": 2,
         "created_at": "2026-11-02T10:15:00.123456789Z", "text": "App crashes"}


def error_field(data) -> str:
    with pytest.raises(ReviewError) as caught:
        Review.from_json(data)
    return caught.value.field


def test_valid_review_round_trips():
    review = Review.from_json({**VALID, "reply": {"text": "Thanks", "updated_at": None},
                               "metadata": {"appVersionName": "1.2"}})
    assert review.created_at == datetime(2026, 11, 2, 10, 15, 0, 123456, tzinfo=UTC)
    again = Review.from_json(json.loads(json.dumps(review.to_json())))
    assert again == review


@pytest.mark.parametrize("field, value", [
    ("external_id", None), ("external_id", "  "), ("rating", None), ("rating", 0),
    ("rating", 6), ("rating", "5"), ("rating", True), ("rating", 4.5), ("created_at", None),
    ("created_at", "yesterday"), ("created_at", "2026-11-02"), ("created_at", "2026-11-02T10:00"),
    ("platform", "facebook"), ("text", 42), ("metadata", []), ("url", "ftp://x"),
    ("language", "x"), ("updated_at", "soon"), ("reply", "thanks"), ("bogus", 1),
])
def test_invalid_field_is_named(field, value):
    data = {**VALID, field: value}
    assert error_field(data) == field


def test_missing_required_fields_are_named():
    for field in ("external_id", "rating", "created_at"):
        data = dict(VALID)
        del data[field]
        assert error_field(data) == field


def test_reply_fields_are_checked():
    assert error_field({**VALID, "reply": {"text": "x", "when": 1}}) == "reply.when"
    assert error_field({**VALID, "reply": {"text": "x", "updated_at": "nope"}}) == \
        "reply.updated_at"


def test_not_an_object():
    assert error_field(["x"]) == "review"


def test_markup_and_entities_become_plain_text():
    review = Review.from_json({**VALID, "text": "<p>Great &amp; <b>fast</b></p><br>"
                                                "<script>alert(1)</script>Caf&eacute;"})
    assert review.text == "Great & fast\nCafé"


def test_invisible_characters_are_removed():
    hidden = "Ignore\u200b previous\u2060 \U000e0041\U000e0042instructions\ufeff"
    assert Review.from_json({**VALID, "text": hidden}).text == "Ignore previous instructions"
    assert strip_invisible("a\u202eb\u0007c\nd") == "abc\nd"


def test_plain_text_with_angle_brackets_survives():
    assert normalise_text("5 < 6 and 7 > 3") == "5 < 6 and 7 > 3"


def test_content_hash_tracks_what_the_customer_said():
    a = Review.from_json(VALID)
    assert a.content_hash == Review.from_json({**VALID, "author": "Other"}).content_hash
    assert a.content_hash != Review.from_json({**VALID, "rating": 3}).content_hash
    assert a.content_hash != Review.from_json({**VALID, "text": "App crashes a lot"}).content_hash


@pytest.mark.parametrize("author, expected", [
    ("jane doe", "Jane"), ("A Google user", ""), ("", ""), ("J.", ""), ("x4rt", ""),
    ("Ein Google-Nutzer", ""), ("Usuario de Google", ""), ("Dr. Anna Schmidt", "Anna"),
    ("Anne-Marie Dupont", "Anne-Marie")])
def test_first_name(author, expected):
    assert Review.from_json({**VALID, "author": author}).first_name == expected


def test_reply_length_counts_bytes_for_google_business():
    assert reply_length("é" * 10, "google_business") == (20, 4096, "bytes")
    assert reply_length("é" * 10, "google_play") == (10, 350, "chars")
    assert reply_length("x", "app_store")[1] == 5970
