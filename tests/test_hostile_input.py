"""Hostile input: oversized bodies, files that lie about their type, names that try to be paths, request ids."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from tests.helpers import registration_body, rehearsal

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx(with_document: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if with_document:
            archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
async def team(api: httpx.AsyncClient, public: httpx.AsyncClient) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A registered project and its team's Authorization header."""
    code = await rehearsal(api)
    email = f"upload-{uuid.uuid4().hex[:6]}@example.com"
    project = (await public.post(f"/competitions/{code}/projects", json=registration_body(email))).json()
    token = (await public.post("/auth/login", json={"username": email, "password": "Liaoning-2025!"})).json()["token"]
    yield project["id"], {"Authorization": f"Bearer {token}"}


async def test_a_team_uploads_a_real_pdf_stored_by_content(
    public: httpx.AsyncClient, team: tuple[str, dict[str, str]], api_settings: Settings
) -> None:
    project_id, auth = team
    response = await public.post(
        f"/projects/{project_id}/attachments",
        headers=auth,
        data={"category": "other"},
        files={"file": ("../../etc/项目申报书.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["display_name"] == "项目申报书.pdf" and body["kind"] == "document" and body["size"] == len(PDF)
    stored = api_settings.data_dir / "files" / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == PDF
    assert not (api_settings.data_dir / "etc").exists() and not list(Path("/etc").glob("项目申报书*"))
    listed = (await public.get(f"/projects/{project_id}/attachments", headers=auth)).json()
    assert [a["sha256"] for a in listed] == [body["sha256"]]
    good = await public.post(
        f"/projects/{project_id}/attachments",
        headers=auth,
        data={"category": "other"},
        files={"file": ("方案.docx", docx(True), "application/octet-stream")},
    )
    assert good.status_code == 201, good.text


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("申报书.pdf", PNG, "file_content_mismatch"),
        ("logo.png", PDF, "file_content_mismatch"),
        ("方案.docx", docx(False), "file_content_mismatch"),
        ("方案.docx", b"PK\x03\x04 not really a zip", "file_content_mismatch"),
        ("tool.exe", b"MZ\x90\x00", "file_type_not_allowed"),
        ("noextension", PDF, "file_type_not_allowed"),
        ("empty.pdf", b"", "file_empty"),
    ],
)
async def test_files_that_lie_are_refused(
    public: httpx.AsyncClient, team: tuple[str, dict[str, str]], name: str, content: bytes, code: str
) -> None:
    project_id, auth = team
    response = await public.post(
        f"/projects/{project_id}/attachments",
        headers=auth,
        data={"category": "other"},
        files={"file": (name, content, "application/pdf")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["message_zh"]


async def test_size_limits_per_kind_and_per_body(
    dev_env: WorkflowEnvironment,
    settings_factory: Callable[..., Settings],
    team: tuple[str, dict[str, str]],
    api_settings: Settings,
) -> None:
    project_id, auth = team
    small = settings_factory(
        upload_image_max_bytes=500,
        upload_video_max_bytes=800,
        upload_document_max_bytes=1000,
        max_body_bytes=2000,
        database_url=api_settings.database_url,
        data_dir=api_settings.data_dir,
    )
    app = create_app(small, temporal=dev_env.client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        big_pdf = PDF + b"0" * 2000
        response = await client.post(
            f"/projects/{project_id}/attachments",
            headers=auth,
            data={"category": "other"},
            files={"file": ("big.pdf", big_pdf, "application/pdf")},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (413, "file_too_large")
        for name, content in (
            ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 600),
            ("big.mp4", b"\x00\x00\x00\x18ftypmp42" + b"0" * 900),
        ):
            refused = await client.post(
                f"/projects/{project_id}/attachments",
                headers=auth,
                data={"category": "other"},
                files={"file": (name, content, "application/octet-stream")},
            )
            assert (refused.status_code, refused.json()["error"]["code"]) == (413, "file_too_large"), name
        fits = await client.post(
            f"/projects/{project_id}/attachments",
            headers=auth,
            data={"category": "demo_video"},
            files={"file": ("demo.mp4", b"\x00\x00\x00\x18ftypmp42" + b"0" * 100, "video/mp4")},
        )
        assert fits.status_code == 201 and fits.json()["kind"] == "video"
        big_json = await client.post("/auth/login", json={"username": "x" * 3000, "password": "y"})
        assert (big_json.status_code, big_json.json()["error"]["code"]) == (413, "body_too_large")
    leftovers = list((api_settings.data_dir / "files" / "incoming").iterdir())
    assert leftovers == []


async def test_request_ids_are_echoed_or_replaced(public: httpx.AsyncClient) -> None:
    kept = await public.get("/health", headers={"X-Request-ID": "trace-123"})
    assert kept.headers["x-request-id"] == "trace-123"
    replaced = await public.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(replaced.headers["x-request-id"]) == 32


async def test_nul_characters_are_refused_before_the_database(public: httpx.AsyncClient) -> None:
    in_body = await public.post("/auth/login", json={"username": "a\u0000b", "password": "x"})
    in_path = await public.get("/competitions/ln%00x")
    assert (in_body.status_code, in_body.json()["error"]["code"]) == (422, "invalid_request")
    assert (in_path.status_code, in_path.json()["error"]["code"]) == (422, "invalid_request")


async def test_overlong_paths_and_queries_are_refused(public: httpx.AsyncClient) -> None:
    long_path = await public.get("/projects/" + "P" * 600)
    long_query = await public.get("/audit", params={"object_id": "x" * 3000})
    assert (long_path.status_code, long_path.json()["error"]["code"]) == (414, "uri_too_long")
    assert (long_query.status_code, long_query.json()["error"]["code"]) == (414, "uri_too_long")


async def test_an_unknown_category_is_refused(public: httpx.AsyncClient, team: tuple[str, dict[str, str]]) -> None:
    project_id, auth = team
    response = await public.post(
        f"/projects/{project_id}/attachments",
        headers=auth,
        data={"category": "bribe"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_category")
