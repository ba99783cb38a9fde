"""Drawn fragments kept by the version of what they show, in each server process.

The bed board's version (availability.board_version) names everything its fragment is drawn
from: each pool's numbers and names and how fresh they are, the filters and page, the
reader's language, local day and role. Two readers asking for the same version get the same
HTML, so it is drawn once per process and handed out after that: every open board polls
every 30 seconds, and most polls after a change ask for a board somebody has just drawn.
What differs per request, the time of the check, is filled in as the fragment goes out.
"""
import threading
from collections import OrderedDict

from flask import Flask, current_app

KEPT = 256  # fragments per process: a region's board is about 40 KB, so about 10 MB at most


class Kept:
    """The most recently used fragments by version, the oldest forgotten first."""

    def __init__(self, size: int = KEPT):
        self.size = size
        self._fragments: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # a threaded worker serves several requests at once

    def get(self, version: str) -> str | None:
        with self._lock:
            html = self._fragments.get(version)
            if html is not None:
                self._fragments.move_to_end(version)
            return html

    def keep(self, version: str, html: str) -> None:
        with self._lock:
            self._fragments[version] = html
            self._fragments.move_to_end(version)
            while len(self._fragments) > self.size:
                self._fragments.popitem(last=False)


def kept(name: str, app: Flask | None = None) -> Kept:
    """The app's store of one kind of fragment (each app its own: tests build many)."""
    stores = (app or current_app).extensions.setdefault("fragments", {})
    return stores.setdefault(name, Kept())
