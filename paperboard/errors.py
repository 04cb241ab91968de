"""Refusals: what a service raises when it will not do what was asked: a machine-readable code, a message
for people and an HTTP status. Pages answer one with `paperboard.web.refused_response`; the API with JSON."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def as_json(self) -> dict:
        return {"error": self.message, "code": self.code}
