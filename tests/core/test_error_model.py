"""One error model: every refusal a person or an integrator can act on is a `MakeRightError`
(or, below plugin/, a `connectors.errors.Refusal`), so each surface answers it with one
handler. Found by introspection, so a new exception class cannot slip past."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import connectors
import plugin
from connectors.errors import ConnectorError, Refusal, TransientError
from connectors.untrusted import InputError
from plugin.errors import ActionError, MakeRightError, refusal

#: Exceptions that are not refusals, each with the reason.
EXEMPT = {
    "plugin.api.gbp_push.Unusable": "control flow: a Pub/Sub message nobody can use is "
                                    "acknowledged with 200 and logged, never refused",
    "plugin.drafting.llm_client.StructuredOutputUnsupported": "control flow: the client asks "
                                                              "again with the schema in the "
                                                              "prompt",
    "plugin.inputs.BadInput": "a werkzeug HTTPException (`code` is its HTTP status there), "
                              "answered by each surface's HTTPException handler with its field",
}


def _classes(package) -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if ".migrations" in info.name:
            continue  # Alembic scripts, run by Alembic only
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return found


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


PLUGIN = _classes(plugin)
CONNECTORS = _classes(connectors)


def test_the_search_finds_the_known_roots():
    names = {_name(cls) for cls in PLUGIN}
    assert {"plugin.errors.MakeRightError", "plugin.accounts.AccountError",
            "plugin.store.states.TransitionError", *EXEMPT} <= names


@pytest.mark.parametrize("cls", PLUGIN, ids=_name)
def test_every_plugin_exception_is_a_refusal_or_exempt_with_a_reason(cls):
    if _name(cls) in EXEMPT:
        assert not issubclass(cls, MakeRightError), "no longer needs its exemption"
        return
    assert issubclass(cls, MakeRightError), f"{_name(cls)} is not a MakeRightError"
    assert isinstance(cls.code, str) and cls.code and isinstance(cls.status, int)


@pytest.mark.parametrize("cls", CONNECTORS, ids=_name)
def test_every_connectors_exception_is_a_refusal(cls):
    assert issubclass(cls, Refusal)
    assert isinstance(cls.code, str) and cls.code


def test_value_error_stays_a_base_where_callers_catch_it():
    from plugin.accounts import AccountError
    from plugin.outbound.subscriptions import SubscriptionError
    from plugin.pipeline.config import SettingsError
    from plugin.sources.service import SourceError

    for cls in (AccountError, SubscriptionError, SettingsError, SourceError, InputError):
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize(("exc", "code", "status", "field"), [
    (InputError("body", "is not JSON"), "invalid_request", 400, "body"),
    (InputError("text", "contains NUL"), "invalid_request", 422, "text"),
    (TransientError("no answer"), "upstream_unavailable", 503, None),
    (ConnectorError("refused", status=400), "upstream_error", 502, None),
    (ActionError("no_draft", "no draft"), "no_draft", 409, None),
    (ActionError("needs_override", "why"), "needs_override", 422, None),
])
def test_refusal_gives_the_code_status_and_field_each_surface_answers_with(exc, code, status,
                                                                          field):
    answer = refusal(exc)
    assert answer is not None
    assert (answer.code, answer.status, answer.field) == (code, status, field)
    assert answer.message == str(exc)


def test_an_error_that_is_not_a_refusal_is_left_alone():
    assert refusal(KeyError("x")) is None
    assert refusal(ValueError("x")) is None
