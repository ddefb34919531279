import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from plugin.commands.main import cli
from plugin.store.db import Database
from plugin.store.models import DraftRow, ReviewRow

GOOD = [
    {"platform": "google_business", "external_id": "g1", "rating": 1, "author": "Jane",
     "text": "The delivery was late and the box was crushed.",
     "created_at": "2026-11-01T10:00:00Z"},
    {"platform": "google_play", "external_id": "p1", "rating": 5,
     "text": "Brilliant app, ordering takes seconds.", "created_at": "2026-11-01T11:00:00+01:00"},
]
BAD_LINES = ['{"platform": "google_play", "external_id": "p2", "rating": 9, '
             '"created_at": "2026-11-01T10:00:00Z"}',
             "this is not json",
             '{"platform": "google_play", "rating": 2, "created_at": "2026-11-01T10:00:00Z"}']


def jsonl(rows) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    return tmp_path / "instance"


def test_draft_writes_one_object_per_valid_line(runner, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl([GOOD[0], BAD_LINES[0], BAD_LINES[1], GOOD[1], BAD_LINES[2]]))
    result = runner.invoke(cli, ["draft", str(path)])
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["external_id"] for o in out] == ["g1", "p1"]
    for o in out:
        assert {"external_id", "platform", "language", "categories", "escalate", "offer", "text",
                "chars", "limit", "violations", "engine"} <= set(o)
        assert o["violations"] == [] and o["engine"] == "offline" and o["chars"] <= o["limit"]
    assert out[0]["offer"]["id"] and {"id", "label", "value"} <= set(out[0]["offer"])
    assert out[1]["limit"] == 350 and out[1]["offer"] is None
    assert result.stderr.splitlines() == [
        "line 2: rating: must be an integer from 1 to 5, got 9",
        "line 3: json: is not valid JSON (Expecting value at column 1)",
        "line 5: external_id: is required (a non-empty string)",
    ]


def test_draft_reads_stdin_and_exits_zero_when_all_valid(runner):
    result = runner.invoke(cli, ["draft", "-"], input=jsonl(GOOD))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_draft_stores_nothing(runner, instance):
    runner.invoke(cli, ["draft", "-"], input=jsonl(GOOD))
    assert not (instance / "makeright.sqlite").exists()


def test_import_counts_and_never_duplicates(runner, instance, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl([GOOD[0], BAD_LINES[0], GOOD[1]]))
    first = runner.invoke(cli, ["import", str(path)])
    assert first.exit_code == 1
    assert first.stdout.strip() == "2 new, 0 updated, 0 unchanged, 1 rejected"
    assert "line 2: rating:" in first.stderr
    edited = dict(GOOD[1], rating=2, text="Brilliant app, but now it crashes on login.")
    path.write_text(jsonl([GOOD[0], edited]))
    second = runner.invoke(cli, ["import", "--draft", str(path)])
    assert second.exit_code == 0, second.output
    assert second.stdout.strip() == "0 new, 1 updated, 1 unchanged, 0 rejected, 1 drafted"
    db = Database()
    with db.session() as session:
        assert session.scalar(select(func.count(ReviewRow.id))) == 2
        assert session.scalar(select(func.count(DraftRow.id))) == 1
    db.dispose()


def test_import_refuses_hostile_lines_one_by_one_and_keeps_the_rest(runner, instance, tmp_path):
    """Invalid UTF-8, a lone surrogate, NUL, deep nesting, a week date and a repeated review are
    each reported with their line and field; the good lines around them are stored."""
    good = [json.dumps(GOOD[0]).encode(), json.dumps(GOOD[1]).encode()]
    lines = [
        good[0],
        b'{"external_id": "u1", "rating": 1, "created_at": "2026-11-01T10:00:00Z", '
        b'"text": "caf\xe9"}',
        b'{"external_id": "s1", "rating": 1, "created_at": "2026-11-01T10:00:00Z", '
        b'"metadata": {"app": "\\udfff"}}',
        b'{"external_id": "n1\\u0000", "rating": 1, "created_at": "2026-11-01T10:00:00Z"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"external_id": "w1", "rating": 1, "created_at": "2026-W44-7T10:00:00Z"}',
        json.dumps(dict(GOOD[0], text="The same review again, changed")).encode(),
        good[1],
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 1
    assert result.stdout.strip() == "2 new, 0 updated, 0 unchanged, 6 rejected"
    errors = result.stderr.splitlines()
    assert errors[0].startswith("line 2: json: is not valid UTF-8 (byte")
    assert errors[1].startswith("line 3: metadata.app: contains a lone surrogate (U+DFFF)")
    assert errors[2].startswith("line 4: external_id: contains a NUL character")
    assert errors[3].startswith("line 5: json: nests arrays and objects deeper than")
    assert errors[4].startswith("line 6: created_at: '2026-W44-7T10:00:00Z' is not an RFC 3339")
    assert errors[5] == "line 7: external_id: repeats line 1 ('g1' on google_business)"
    db = Database()
    with db.session() as session:
        assert sorted(session.scalars(select(ReviewRow.external_id))) == ["g1", "p1"]
        assert session.scalar(select(ReviewRow.text).where(ReviewRow.external_id == "g1")) == \
            GOOD[0]["text"]
    db.dispose()
