"""Outbound events: what happened to a review, recorded in an outbox and delivered, signed, to
the endpoints that subscribed to it."""
