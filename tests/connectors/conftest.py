import pytest
import responses

from .support import Sleeps


@pytest.fixture
def mocked():
    """Every HTTP call must match a registered response; unmatched calls fail, none leave."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
