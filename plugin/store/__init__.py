"""Persistence: engines, models, the state machine and migrations."""
