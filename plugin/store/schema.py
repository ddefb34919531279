"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables import their models here.
"""
from ..api import models as _integrations  # noqa: F401  (integration tables)
from . import usage  # noqa: F401  (registers llm_usage)
from .models import Base

metadata = Base.metadata
