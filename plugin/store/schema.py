"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables are imported here; `metadata` then holds all of them.
"""
from ..api import models as _integrations  # noqa: F401
from ..insights import models as _insights  # noqa: F401
from ..sources import models as _sources  # noqa: F401
from .. import accounts  # noqa: F401  (users and login failures)
from ..web import indexes  # noqa: F401  (queue indexes)
from .models import Base

metadata = Base.metadata
