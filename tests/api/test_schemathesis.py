"""Schemathesis, run for real (its command line, every check) against the OpenAPI document the
app serves on loopback: no 5xx, no answer outside the documented statuses, content types,
headers and schemas, schema-valid requests accepted and invalid ones refused.

The hooks in schemathesis_hooks.py sign the webhook requests (Standard Webhooks), give Google
push requests the configured token and point ids at stored reviews. Bounded to 30 examples
per operation with a fixed seed, so a run is reproducible; the summary is printed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from plugin.api.webhooks import draft_pending
from plugin.context import get_policy
from tests import loopback

from .conftest import encode, review_json, signed

ROOT = Path(__file__).resolve().parents[2]
SEEDED = 3
MAX_EXAMPLES = 30
PUBSUB_TOKEN = "schemathesis-push-token"


@pytest.fixture
def served(app, client, secret, poster):
    """The app with drafted reviews 1-3, served by a threaded server on a loopback port."""
    app.config["GOOGLE_PUBSUB_TOKEN"] = PUBSUB_TOKEN
    body = encode({"reviews": [review_json(f"seed-{i}") for i in range(SEEDED)]})
    assert client.post("/webhooks/reviews", data=body,
                       headers=signed(secret, body)).status_code == 202
    with app.app_context():
        draft_pending(app.extensions["makeright.db"], get_policy())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = loopback.serve(server)
    yield f"http://127.0.0.1:{server.server_port}"
    loopback.stop(server, thread)


# The phases run as separate tests so that test workers share them; together they are the
# whole run (the examples phase has no examples in the document and is skipped by schemathesis).
PHASES = ("examples,coverage", "fuzzing,stateful")


@pytest.mark.slow
@pytest.mark.parametrize("phases", PHASES)
def test_api_conforms_to_its_openapi_document(served, secret, make_token, tmp_path, phases):
    token = make_token("reviews:read", "reviews:write", "replies:approve", "replies:post")
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
                   "PYTHONPATH": str(ROOT), "ST_WEBHOOK_SECRET": secret,
                   "ST_PUBSUB_TOKEN": PUBSUB_TOKEN, "ST_SEEDED_REVIEWS": str(SEEDED),
                   "NO_COLOR": "1"}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file",
               str(Path(__file__).with_name("schemathesis.toml")), "run", f"{served}/openapi.json",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--phases", phases,
               "--generation-deterministic",
               # Hypothesis's "too slow" check times data generation, which says how busy the
               # machine is, not whether the API keeps its document.
               "--suppress-health-check", "too_slow",
               "--header", f"Authorization: Bearer {token}", "--workers", "1",
               "--request-timeout", "30", "--no-color"]
    # Run from a scratch folder: schemathesis keeps a cache in the working directory.
    run = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True,
                         timeout=1200)
    output = run.stdout + run.stderr
    summary = output[output.find("=== SUMMARY"):] if "=== SUMMARY" in output else output[-3000:]
    print(summary)
    assert run.returncode == 0, output[-20000:]
    assert "Tested: 11" in summary
    assert "Failures:" not in summary and "Errors:" not in summary, summary
