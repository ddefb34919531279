"""Configured review sources: their encrypted credentials, quota counts and sync.

Public entry points live in their modules so importing the models (as the schema does) pulls in
nothing else: `plugin.sources.sync` (`sync_source`, `due_sources`), `plugin.sources.service`
(`add_source`, ...), `plugin.sources.resolve` (`connector_for`, the one way to a source's
connector), `plugin.secrets` (`SecretBox`).
"""
