"""Running the web app in one process: a production WSGI server plus background work.

`BACKGROUND` is the seam for work that should run beside the web server when one machine does
everything (`makeright serve`, `makeright demo`): each entry is started in a daemon thread with
the app and a stop event; the worker loop (sync, draft, post, deliver) is always one of them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from .runtime import serve_worker

Background = Callable[[Flask, threading.Event], None]
BACKGROUND: list[Background] = [serve_worker]


def run(app: Flask, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve

    stop = threading.Event()
    for task in BACKGROUND:
        threading.Thread(target=task, args=(app, stop), name=getattr(task, "__name__", "task"),
                         daemon=True).start()
    try:
        serve(app, host=host, port=port, threads=threads, ident="makeright")
    finally:
        stop.set()
