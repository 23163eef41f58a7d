"""Errors that tell a person which file is wrong and why."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input: the message names the file and the problem."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
