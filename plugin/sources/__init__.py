"""Configured review sources: their encrypted credentials, quota counts and sync.

Public entry points live in their modules so importing the models (as the schema does) pulls in
nothing else: `plugin.sources.sync` (`sync_source`, `due_sources`), `plugin.sources.service`
(`connector_for_review`, `add_source`, ...), `plugin.secrets` (`SecretBox`).
"""
