"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables import their models here.
"""
from ..pipeline import models as _pipeline_models  # noqa: F401  (registers its tables)
from .models import Base

metadata = Base.metadata
