"""The HTTP side of `contestctl`: every organiser command is one or more calls to the API, so the CLI and the API
do the same checks, write the same audit records and return the same errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import typer

from config import get_settings

CHUNK = 64 * 1024


class ApiClient:
    """A signed-in client of the ContestFlow API (an organiser's API key)."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a refusal exits with the API's code and its Chinese and English message."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            _fail(f"cannot reach the API at {self._http.base_url} ({exc}); is `make run` up? (CONTESTFLOW_API_URL)", 2)
        _check(response)
        return response.json() if response.content else None

    def download(self, path: str, target: Any, params: dict[str, str], progress: Callable[[int], None]) -> int:
        """Stream a file to `target`, calling `progress` with each chunk's size; the total bytes."""
        total = 0
        try:
            with self._http.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    _check(response)
                for chunk in response.iter_bytes(CHUNK):
                    target.write(chunk)
                    total += len(chunk)
                    progress(len(chunk))
        except httpx.TransportError as exc:
            _fail(f"cannot reach the API at {self._http.base_url} ({exc})", 2)
        return total


def _check(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        _fail(f"{response.status_code} {error['code']}: {error['message_zh']} / {error['message_en']}", 1)
    except (ValueError, KeyError, TypeError):
        _fail(f"{response.status_code}: {response.text[:500]}", 1)


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def api_client() -> Iterator[ApiClient]:
    """A client from the settings (CONTESTFLOW_API_URL, CONTESTFLOW_API_KEY or `.env`)."""
    settings = get_settings()
    if not settings.api_key:
        _fail("set CONTESTFLOW_API_KEY to an organiser's API key (POST /accounts/{id}/api-keys)", 2)
    client = ApiClient(settings.effective_api_url, settings.api_key)
    try:
        yield client
    finally:
        client.close()
