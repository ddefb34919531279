"""The environment changes only the documented settings: Flask's switches and the test hooks
cannot be turned on (or protection off) by a variable left in a production environment."""
from plugin.config import APP_SETTINGS, app_settings_from_env

from .webtools import PASSWORD, build_app, dispose

HOSTILE = {"MAKERIGHT_LOGIN_DISABLED": "true", "MAKERIGHT_WTF_CSRF_ENABLED": "false",
           "MAKERIGHT_TESTING": "true", "MAKERIGHT_DEBUG": "true",
           "MAKERIGHT_GBP_CONNECTOR_FACTORY": "os:system", "MAKERIGHT_MODE": "demo",
           "MAKERIGHT_SESSION_COOKIE_SECURE": "false"}


def test_switches_in_the_environment_do_not_turn_off_sign_in_or_csrf(tmp_path, monkeypatch):
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    app = build_app(tmp_path, WTF_CSRF_ENABLED=True, TESTING=False)
    try:
        for key in ("LOGIN_DISABLED", "GBP_CONNECTOR_FACTORY", "DEBUG"):
            assert not app.config.get(key), key
        assert app.config["WTF_CSRF_ENABLED"] is True and app.config["MODE"] == "production"
        assert app.config["SESSION_COOKIE_SECURE"] is True
        client = app.test_client()
        queue = client.get("/")
        assert queue.status_code == 302 and "/login" in queue.headers["Location"]
        refused = client.post("/login", data={"name": "admin", "password": PASSWORD})
        assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    finally:
        dispose(app)


def test_documented_settings_still_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_PROXY_HOPS", "1")
    monkeypatch.setenv("MAKERIGHT_LOGIN_FREE_ATTEMPTS", "5")
    monkeypatch.setenv("MAKERIGHT_QUEUE_PAGE_SIZE", "20")
    monkeypatch.setenv("MAKERIGHT_GOOGLE_PUBSUB_TOKEN", "0123456789")
    app = build_app(tmp_path)
    try:
        assert app.config["PROXY_HOPS"] == 1 and app.config["LOGIN_FREE_ATTEMPTS"] == 5
        assert app.config["QUEUE_PAGE_SIZE"] == 20
        assert app.config["GOOGLE_PUBSUB_TOKEN"] == "0123456789"
    finally:
        dispose(app)


def test_only_listed_settings_are_read_and_secrets_stay_text():
    environ = {"MAKERIGHT_SECRET_KEY": "84213376509812347765", "MAKERIGHT_LOGIN_DISABLED": "1",
               "MAKERIGHT_WEBHOOK_WAIT_SECONDS": "2.5", "OTHER_PROXY_HOPS": "3"}
    assert app_settings_from_env(environ) == {"SECRET_KEY": "84213376509812347765",
                                              "WEBHOOK_WAIT_SECONDS": 2.5}


def test_every_environment_setting_is_documented_in_the_readme():
    from tests.architecture import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [key for key in APP_SETTINGS if f"`MAKERIGHT_{key}`" not in readme]
    assert missing == []
