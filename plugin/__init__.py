"""MakeRight: drafts sincere, policy-bound replies to reviews for a person to approve."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("makeright")
except PackageNotFoundError:
    __version__ = "0.0.0"


def create_app(config=None, settings=None):
    """Build the standalone web application (queue, API, webhooks); see plugin.app.
    `settings` (plugin.config.Settings) default to the environment's."""
    from .app import create_app as factory

    return factory(config, settings)


def register(app, url_prefix="", config=None, settings=None):
    """Mount the queue and API in a host Flask app under `url_prefix` (plugin.embed)."""
    from .embed import register as mount

    return mount(app, url_prefix=url_prefix, config=config, settings=settings)
