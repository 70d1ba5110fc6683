"""Errors the domain raises for views and the API to turn into 4xx answers."""

from __future__ import annotations


class ValidationError(Exception):
    """Input the domain refuses; ``errors`` maps a field name to a human message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(Exception):
    """The object named by the caller does not exist."""
