"""MakeRight: drafts sincere, policy-bound replies to reviews for a person to approve."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("makeright")
except PackageNotFoundError:
    __version__ = "0.0.0"
