"""`make run`'s launcher: brings every part up, reports a busy port, stops everything, resumes after restart."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx

from config import Settings
from devtools.stack import port_in_use
from tests.conftest import free_port
from tests.test_end_to_end import registration


def launch(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "devtools.stack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 90.0) -> str:
    """Output of the process up to a line containing marker; fails if it exits or times out first."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"'{marker}' not seen; output so far:\n{''.join(seen)}")


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_the_stack_runs_stops_and_resumes(tmp_path: Path, settings_factory: Callable[..., Settings]) -> None:
    ports = {name: free_port() for name in ("TEMPORAL", "UI", "SMTP", "API", "METRICS")}
    env = dict(
        os.environ,
        CONTESTFLOW_DATA_DIR=str(tmp_path / "data"),
        CONTESTFLOW_DATABASE_URL=settings_factory().database_url,
        CONTESTFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{ports['TEMPORAL']}",
        CONTESTFLOW_TEMPORAL_UI_PORT=str(ports["UI"]),
        CONTESTFLOW_SMTP_PORT=str(ports["SMTP"]),
        CONTESTFLOW_API_PORT=str(ports["API"]),
        CONTESTFLOW_WORKER_METRICS_PORT=str(ports["METRICS"]),
        CONTESTFLOW_TEMPORAL_TASK_QUEUE=f"stack-{uuid.uuid4().hex[:6]}",
    )
    base = f"http://127.0.0.1:{ports['API']}"
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.contestctl",
            "accounts",
            "create",
            "--username",
            "chief",
            "--email",
            "chief@example.com",
        ],
        env=dict(env, CONTESTFLOW_NEW_PASSWORD="Organiser-2025"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    stack = launch(env)
    try:
        banner = read_until(stack, "Data folder")
        for url in (f"{base}/docs", f"http://127.0.0.1:{ports['UI']}", f"smtp://127.0.0.1:{ports['SMTP']}"):
            assert url in banner

        second = subprocess.run(
            [sys.executable, "-m", "devtools.stack"], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 2
        assert f"port {ports['API']} for the API is already in use" in second.stderr
        assert "CONTESTFLOW_API_PORT" in second.stderr

        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post("/auth/login", json={"username": "chief", "password": "Organiser-2025"}).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            assert http.get("/health").json()["components"] == {
                "database": "up",
                "temporal": "up",
                "smtp": "up",
            }
            assert http.get("/docs").status_code == 200
            code = f"ln-stack-{uuid.uuid4().hex[:6]}"
            assert (
                http.post(
                    "/competitions",
                    json={"catalog": "liaoning-2025", "code": code, "rehearsal": {"season_minutes": 600}},
                ).status_code
                == 201
            )
            project = http.post(f"/competitions/{code}/projects", json=registration()).json()
        mail_dir = tmp_path / "data" / "mail"
        deadline = time.monotonic() + 30
        while len(list(mail_dir.glob("*.eml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(mail_dir.glob("*.eml"))) == 2  # received, and incomplete (no proof materials yet)
        # Prometheus: the API's requests by route template, and the Temporal SDK's metrics from the worker.
        api_metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'contestflow_http_requests_total{method="GET",route="/health",status="200"}' in api_metrics
        assert 'route="/competitions/{code}/projects"' in api_metrics
        worker_metrics = httpx.get(f"http://127.0.0.1:{ports['METRICS']}/metrics", timeout=10).text
        assert "temporal_workflow_task_execution_latency" in worker_metrics and "temporal_activity_" in worker_metrics
    finally:
        assert stop(stack) == 0
    assert not any(port_in_use(p) for p in ports.values())
    assert (tmp_path / "data" / "temporal.db").exists()
    with closing(sqlite3.connect(tmp_path / "data" / "temporal.db")) as temporal_db:  # the dev server's pragmas held
        assert temporal_db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    stack = launch(env)
    try:
        read_until(stack, "Data folder")
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            again = http.get(f"/projects/{project['id']}")
            assert again.status_code == 200, again.text
            assert again.json()["stage"] == "registration" and again.json()["log"][0]["kind"] == "stage_entered"
    finally:
        assert stop(stack) == 0
