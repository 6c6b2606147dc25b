"""Rejections that cross to the API: a stable code plus a Chinese and an English message."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def rejection(code: str, zh: str, en: str) -> ApplicationError:
    """An error a validator or handler raises; the API maps `type` to an HTTP status and shows both messages."""
    return ApplicationError(en, {"code": code, "zh": zh, "en": en}, type=code, non_retryable=True)
