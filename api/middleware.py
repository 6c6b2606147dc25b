"""ASGI middleware: a request id on every request and response, and a cap on request body size."""

from __future__ import annotations

import json
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

MAX_PATH, MAX_QUERY = 512, 2048
UPLOAD_PATH = re.compile(r"/attachments$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class RequestContextMiddleware:
    """Gives each request an id (the caller's X-Request-ID when sane), echoed back and used by the audit trail."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, query = scope.get("path", ""), scope.get("query_string", b"")
        if len(path) > MAX_PATH or len(query) > MAX_QUERY:
            await send_error(
                send,
                414,
                "uri_too_long",
                "地址或参数过长",
                f"paths are capped at {MAX_PATH} characters, queries at {MAX_QUERY}",
            )
            return
        if "\x00" in path or b"%00" in query + scope.get("raw_path", b""):
            await send_error(send, 422, "invalid_request", "地址或参数包含空字符", "the path or query contains a NUL")
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if UPLOAD_PATH.search(scope.get("path", "")) else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await self._too_large(send, limit)

    async def _too_large(self, send: Send, limit: int) -> None:
        await send_error(
            send, 413, "body_too_large", f"请求内容超过 {limit} 字节上限", f"the request body exceeds {limit} bytes"
        )


async def send_error(send: Send, status: int, code: str, zh: str, en: str) -> None:
    """Answer from middleware in the API's error shape."""
    body = json.dumps(error_body(code, zh, en), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside the app's receive when a streamed body passes the limit."""
