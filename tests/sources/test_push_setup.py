"""`makeright source push-setup`: Business Profile notifications through the Notifications
API v1 (accounts.updateNotificationSetting,
https://developers.google.com/my-business/reference/notifications/rest/v1/NotificationSetting)."""
from __future__ import annotations

import json

import responses
from responses import matchers

from plugin.commands.main import cli
from tests.connectors.support import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_URL

NOTIFY = "https://mybusinessnotifications.googleapis.com/v1"
TOPIC = "projects/harbour-lane-prod/topics/gbp-reviews"


def add_source(runner, monkeypatch) -> None:
    monkeypatch.setenv("GBP_REFRESH", REFRESH_TOKEN)
    monkeypatch.setenv("GBP_CLIENT_SECRET", CLIENT_SECRET)
    result = runner.invoke(cli, [
        "source", "add", "google_business", "harbour-maps",
        "--set", "client_id=client-1.apps.googleusercontent.com",
        "--set", "locations=accounts/111/locations/222,accounts/111/locations/333,"
                 "accounts/900/locations/1",
        "--set", f"token_url={TOKEN_URL}",
        "--secret-env", "refresh_token=GBP_REFRESH",
        "--secret-env", "client_secret=GBP_CLIENT_SECRET"])
    assert result.exit_code == 0, result.output


def test_push_setup_sets_one_notification_setting_per_account(instance, runner, monkeypatch):
    add_source(runner, monkeypatch)

    def answer(request):
        body = json.loads(request.body)
        return 200, {}, json.dumps(body)

    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                     "token_type": "Bearer"})
        mask = [matchers.query_param_matcher({"updateMask": "pubsubTopic,notificationTypes"})]
        for account in ("111", "900"):
            mocked.add_callback("PATCH", f"{NOTIFY}/accounts/{account}/notificationSetting",
                                callback=answer, match=mask)
        result = runner.invoke(cli, ["source", "push-setup", "harbour-maps", "--topic", TOPIC])
        sent = [json.loads(call.request.body) for call in mocked.calls
                if call.request.method == "PATCH"]

    assert result.exit_code == 0, result.output
    assert sent == [{"name": f"accounts/{a}/notificationSetting", "pubsubTopic": TOPIC,
                     "notificationTypes": ["NEW_REVIEW", "UPDATED_REVIEW"]}
                    for a in ("111", "900")]
    assert "accounts/111/notificationSetting: projects/harbour-lane-prod/topics/gbp-reviews " \
           "(NEW_REVIEW, UPDATED_REVIEW)" in result.output
    assert "mybusiness-api-pubsub@system.gserviceaccount.com" in result.output


def test_a_topic_still_used_by_v4_is_explained(instance, runner, monkeypatch):
    add_source(runner, monkeypatch)
    error = {"error": {"code": 400, "status": "FAILED_PRECONDITION",
                       "message": "SHARES_PUBSUB_TOPIC_MESSAGE_ACROSS_VERSIONS"}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                     "token_type": "Bearer"})
        mocked.patch(f"{NOTIFY}/accounts/111/notificationSetting", status=400, json=error)
        result = runner.invoke(cli, ["source", "push-setup", "harbour-maps", "--topic", TOPIC])

    assert result.exit_code == 1
    assert "deprecated v4 notifications" in result.output


def test_disable_clears_the_topic_and_a_bad_topic_is_refused(instance, runner, monkeypatch):
    add_source(runner, monkeypatch)
    bad = runner.invoke(cli, ["source", "push-setup", "harbour-maps", "--topic", "gbp-reviews"])
    assert bad.exit_code == 2 and "projects/PROJECT/topics/TOPIC" in bad.output
    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                     "token_type": "Bearer"})
        for account in ("111", "900"):
            mocked.add_callback("PATCH", f"{NOTIFY}/accounts/{account}/notificationSetting",
                                callback=lambda r: (200, {}, r.body))
        result = runner.invoke(cli, ["source", "push-setup", "harbour-maps", "--disable"])
        sent = [json.loads(call.request.body) for call in mocked.calls
                if call.request.method == "PATCH"]
    assert result.exit_code == 0, result.output
    assert all(s["pubsubTopic"] == "" and s["notificationTypes"] == [] for s in sent)
