"""Preparing the media of the next items in the background while the annotator looks at the current one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_LOG = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-ahead")  # one: the page's run goes first
_STARTED: set[Hashable] = set()
_LOCK = threading.Lock()
MAX_REMEMBERED = 4096  # keys of prepared items kept to avoid repeating work


def prepare_ahead(key: Hashable, work: Callable[..., Any], *args: Any) -> None:
    """Run work(*args) once per key, in the background (its result lands in the caches it fills); failures are
    logged and left to the page to show when the item comes up."""
    with _LOCK:
        if key in _STARTED:
            return
        if len(_STARTED) >= MAX_REMEMBERED:
            _STARTED.clear()
        _STARTED.add(key)
    _POOL.submit(work, *args).add_done_callback(lambda done: _report(key, done))


def _report(key: Hashable, done: Future) -> None:
    error = done.exception()
    if error is not None:
        _LOG.warning("preparing %s ahead failed: %s", key, error)
