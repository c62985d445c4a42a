"""Who is on duty at this workstation (Qt-free).

Control-room PCs often run under one shared login, so the login name says nothing about the
person: the operator on duty is named at start (``operator`` in the config, else the login
name) and handed over at a change of shift. Everything that records an action — workflow
changes, the audit log — asks :class:`Duty` for the name at the moment it acts.
"""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

__all__ = ["Duty", "HandoverError"]


class HandoverError(ValueError):
    """A hand-over that cannot be made (no name given)."""


class Duty:
    """The operator on duty; ``hand_over`` changes it and tells the listeners ``(old, new, note)``."""

    def __init__(self, name: str):
        name = (name or "").strip()
        if not name:
            raise HandoverError("an operator name is required")
        self.name = name
        self._listeners: list[Callable[[str, str, str], None]] = []

    def __str__(self) -> str:
        return self.name

    def on_hand_over(self, callback: Callable[[str, str, str], None]) -> Callable[[], None]:
        """Be told of each hand-over; returns the function that stops it (for a plugin's unload)."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def hand_over(self, new_name: str, note: str = "") -> str:
        """Put ``new_name`` on duty; returns the previous operator's name."""
        new_name = (new_name or "").strip()
        if not new_name:
            raise HandoverError("the incoming operator's name is required")
        old, self.name = self.name, new_name
        for cb in list(self._listeners):
            try:
                cb(old, new_name, note)
            except Exception:  # noqa: BLE001 - one listener's failure must not stop the hand-over
                log.exception("hand-over listener failed")
        return old
