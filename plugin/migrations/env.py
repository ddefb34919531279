"""Alembic environment: runs against the connection or URL the caller hands over."""
from __future__ import annotations

from alembic import context

from plugin.store.db import make_engine
from plugin.store.models import UTCDateTime
from plugin.store.search import is_search_table
from plugin.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine()
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    """Write the UTC wrapper type as a plain timestamp so migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name, type_, parent_names) -> bool:
    """The search index's tables, indexes and PostgreSQL's stored word columns are made by hand;
    the models do not describe them."""
    return not (type_ in ("table", "index", "column") and is_search_table(name))


def _run(connection) -> None:
    # Batch mode lets the same migrations alter tables on SQLite, which lacks most of ALTER.
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, compare_type=True, render_item=_render_item,
                      include_name=_include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
