"""The functional core: plain, synchronous, deterministic stages that never import Faust.

``agents.pipeline.analyze`` composes them; ``streams`` wires the same functions into
Faust agents, and ``khabar process`` runs them offline.
"""

from __future__ import annotations

from schemas import Stage


class StageError(Exception):
    """A page a stage cannot process. ``reason`` is a short label from a small fixed set."""

    def __init__(self, stage: Stage, reason: str, message: str) -> None:
        super().__init__(message)
        self.stage: Stage = stage
        self.reason = reason
