"""Loopback servers for tests, served from a daemon thread and stopped at once.

`serve_forever` looks at its shutdown flag once per poll interval, half a second by default, so
every server a test stopped used to cost it up to half a second. Polling every 10 ms costs
nothing measurable and lets a test end as soon as it is done.
"""
from __future__ import annotations

import socketserver
import threading

POLL_SECONDS = 0.01


def serve(server: socketserver.BaseServer) -> threading.Thread:
    """Serve `server` (any socketserver, werkzeug's included) until `stop`."""
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    return thread


def stop(server: socketserver.BaseServer, thread: threading.Thread | None = None) -> None:
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)
