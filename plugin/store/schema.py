"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables import their models here.
"""
from ..sources import models as _sources  # noqa: F401  (registers the sources tables)
from .models import Base

metadata = Base.metadata
