"""Insights: the figures an owner runs the service by, their dashboard, exports, backups and
the daily digest."""
