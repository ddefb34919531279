"""Sessions the server can end, and passwords an attacker would not guess early.

A captured session cookie is signed and unexpired, so only the server can stop it: signing
out, changing the password and deactivation each bump the user's session generation, and
every cookie issued under an older generation is refused from then on.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from plugin.accounts import AccountError, UserRow, add_user, check_password, find_user
from plugin.commands.main import cli
from plugin.context import get_db

from .webtools import PASSWORD, login

COOKIE = "makeright_session"
NEW_PASSWORD = "violet lantern orchard 42"


def _stolen_copy(app, client):
    """A second browser holding the same session cookie, as an attacker who copied it would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    assert thief.get("/queue").status_code == 200
    return thief


def _user(app, name: str) -> UserRow:
    with app.app_context(), get_db().session() as session:
        row = find_user(session, name)
        session.expunge(row)
        return row


def test_sign_out_ends_every_copy_of_the_session(app, seed, row):
    review_id = seed()
    client = app.test_client()
    assert login(client, "editor").status_code == 302
    thief = _stolen_copy(app, client)
    assert client.post("/logout").status_code == 302
    assert thief.get("/queue").status_code == 302
    response = thief.post(f"/reviews/{review_id}/skip", data={"reason": "taken over"})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert row(review_id).status != "skipped"


def test_signing_in_again_after_sign_out_works(app):
    client = app.test_client()
    login(client, "editor")
    client.post("/logout")
    assert login(client, "editor").status_code == 302
    assert client.get("/queue").status_code == 200


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "approver")
    login(laptop, "approver")
    thief = _stolen_copy(app, laptop)
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert laptop.get("/queue").status_code == 200
    assert phone.get("/queue").status_code == 302
    assert thief.get("/queue").status_code == 302
    assert login(app.test_client(), "approver", PASSWORD).status_code == 401
    assert login(app.test_client(), "approver", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"current_password": "not it", "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD}, "current password is not right"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD + "x"}, "two new passwords differ"),
    ({"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa",
      "confirm_password": "aaaaaaaaaaaa"}, "too easy to guess"),
])
def test_a_refused_password_change_ends_nothing(app, form, message):
    client = app.test_client()
    login(client, "editor")
    other = _stolen_copy(app, client)
    response = client.post("/account/password", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert other.get("/queue").status_code == 200


def test_password_page_needs_a_signed_in_user(app):
    assert app.test_client().get("/account/password").status_code == 302


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, as_role):
    viewer = app.test_client()
    login(viewer, "viewer")
    admin = as_role("admin")
    user_id = _user(app, "viewer").id
    assert admin.post(f"/settings/users/{user_id}", data={"role": "viewer"}).status_code == 302
    assert viewer.get("/queue").status_code == 302
    assert admin.post(f"/settings/users/{user_id}",
                      data={"role": "viewer", "active": "1"}).status_code == 302
    assert viewer.get("/queue").status_code == 302
    assert login(app.test_client(), "viewer").status_code == 302


def test_a_cookie_without_a_generation_is_not_accepted(app):
    client = app.test_client()
    login(client, "admin")
    user_id = _user(app, "admin").id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)  # the form cookies had before generations
    assert client.get("/queue").status_code == 302


def test_the_operator_resets_a_password_from_the_command_line(app, tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", app.config["DATABASE_URL"])
    client = app.test_client()
    login(client, "editor")
    secret = tmp_path / "password.txt"
    secret.write_text("editor-password\n")
    weak = CliRunner().invoke(cli, ["user", "password", "editor", "--password-file",
                                    str(secret)])
    assert weak.exit_code == 1 and "must not contain the user name" in weak.output
    assert client.get("/queue").status_code == 200
    secret.write_text(NEW_PASSWORD + "\n")
    result = CliRunner().invoke(cli, ["user", "password", "editor", "--password-file",
                                      str(secret)])
    assert result.exit_code == 0, result.output
    assert client.get("/queue").status_code == 302
    assert login(app.test_client(), "editor", NEW_PASSWORD).status_code == 302


# --- password rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, password, message", [
    ("maya", "short", "at least 10"),
    ("maya", "a" * 201, "at most 200"),
    ("maya", "aaaaaaaaaaaa", "Repeats"),
    ("maya", "abcabcabcabc", "Repeats"),
    ("maya", "password123", "common password"),
    ("maya", "qwertyuiop12", "too easy"),
    ("maya", "1234567890", "common password"),
    ("maya", "iloveyou2026!", "too easy"),
    ("maya.silva", "maya.silva", "user name"),
    ("maya.silva", "Maya.Silva-2026!", "user name"),
    ("admin", "superadmin-2026", "user name"),
])
def test_weak_passwords_are_refused_with_a_reason(name, password, message):
    with pytest.raises(AccountError, match=message):
        check_password(name, password)


@pytest.mark.parametrize("name, password", [
    ("maya", "correct horse battery staple"), ("maya", "violet lantern orchard 42"),
    ("jo", "jo loves quiet tuesdays"), ("maya", "Xk9#mPq2vL7!"),
])
def test_strong_passwords_pass(name, password):
    check_password(name, password)


def test_adding_a_person_with_a_weak_password_shows_why(app, as_role):
    response = as_role("admin").post("/settings/users", data={
        "name": "newcomer", "role": "editor", "password": "newcomer2026"})
    assert response.status_code == 422
    assert "must not contain the user name" in response.get_data(as_text=True)


def test_add_user_refuses_a_common_password(app):
    with (app.app_context(), get_db().session() as session,
          pytest.raises(AccountError, match="too easy to guess")):
        add_user(session, "newcomer", "editor", "password1234")


def test_guessing_the_current_password_is_slowed_like_signing_in(app):
    thief = app.test_client()
    login(thief, "approver")
    codes = [thief.post("/account/password", data={
        "current_password": f"guess {n}", "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD}).status_code for n in range(5)]
    assert codes == [422, 422, 422, 429, 429]
    right = thief.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert right.status_code == 429
    elsewhere = app.test_client().post("/login", data={"name": "approver", "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 302  # the owner, at their own address, is not held up
