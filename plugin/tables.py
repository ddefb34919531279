"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables are imported here; `metadata` then holds all of them.
"""
from . import accounts as _accounts  # noqa: F401
from .drafting import translation as _translations  # noqa: F401
from .drafting import usage as _llm_usage  # noqa: F401
from .insights import models as _insights  # noqa: F401
from .outbound import models as _integrations  # noqa: F401
from .pipeline import models as _pipeline  # noqa: F401
from .sources import models as _sources  # noqa: F401
from .store import indexes as _queue_indexes  # noqa: F401
from .store import tallies as _tallies  # noqa: F401
from .store import teamwork as _teamwork  # noqa: F401
from .store.models import Base

metadata = Base.metadata
