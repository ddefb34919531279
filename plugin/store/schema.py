"""Every table of the application, imported in one place so migrations see them all.

Feature modules that add tables import their models here.
"""
from .. import accounts  # noqa: F401  (users and login failures)
from ..web import indexes  # noqa: F401  (queue indexes)
from .models import Base

metadata = Base.metadata
