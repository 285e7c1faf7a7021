"""Readiness of this process: not ready while starting, ready while serving, not ready while draining."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Readiness:
    ready: bool = False
    draining: bool = False

    def mark_ready(self) -> None:
        self.ready = True

    def start_draining(self) -> None:
        self.draining = True
        self.ready = False


readiness = Readiness()
