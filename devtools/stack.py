"""`make run`: the whole embedded stack — Temporal dev server, SMTP sink, migrations, worker, API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from config import Settings, get_settings
from db.migrate import upgrade_to_head
from devtools.binaries import dev_server_sqlite_flags, temporal_cli
from workflows.search_attributes import cli_flags


@dataclass(frozen=True)
class Port:
    """A port the stack listens on and the setting that changes it."""

    what: str
    port: int
    setting: str


def ports(settings: Settings) -> list[Port]:
    """Every port `make run` binds on loopback."""
    temporal_port = int(settings.temporal_address.rpartition(":")[2])
    return [
        Port("Temporal frontend", temporal_port, "CONTESTFLOW_TEMPORAL_ADDRESS"),
        Port("Temporal Web UI", settings.temporal_ui_port, "CONTESTFLOW_TEMPORAL_UI_PORT"),
        Port("SMTP sink", settings.smtp_port, "CONTESTFLOW_SMTP_PORT"),
        Port("API", settings.api_port, "CONTESTFLOW_API_PORT"),
        *(
            [Port("worker metrics", settings.worker_metrics_port, "CONTESTFLOW_WORKER_METRICS_PORT")]
            if settings.worker_metrics_port
            else []
        ),
    ]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 60.0) -> None:
    """Block until the port answers; fail if the process died or the time ran out."""
    deadline = time.monotonic() + timeout
    while not port_in_use(port):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode} before listening on {port}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not listen on port {port} within {timeout:.0f}s")
        time.sleep(0.2)


def temporal_command(settings: Settings) -> list[str]:
    """The dev server with persistent state and the project's search attributes."""
    port = settings.temporal_address.rpartition(":")[2]
    return [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        port,
        "--ui-port",
        str(settings.temporal_ui_port),
        "--namespace",
        settings.temporal_namespace,
        "--db-filename",
        str((settings.data_dir / "temporal.db").resolve()),
        "--log-level",
        "error",
        *dev_server_sqlite_flags(),
        *cli_flags(),
    ]


class Stack:
    """The processes `make run` starts, stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs = settings.data_dir / "logs"

    def spawn(self, name: str, command: list[str], log_to_file: bool = False) -> subprocess.Popen[bytes]:
        """Start one process in its own process group (so Ctrl-C is handled here, once)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        out = open(self.logs / f"{name}.log", "ab") if log_to_file else None  # noqa: SIM115
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            env=os.environ.copy(),
        )
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        """Terminate in reverse order, then kill what lingers."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, process in reversed(self.processes):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"killing {name}", flush=True)
                process.kill()


def main() -> int:
    """Start everything, print the URLs, and wait for Ctrl-C or a crash."""
    settings = get_settings()
    busy = [p for p in ports(settings) if port_in_use(p.port)]
    for p in busy:
        print(
            f"error: port {p.port} for the {p.what} is already in use; stop what holds it or set {p.setting}",
            file=sys.stderr,
        )
    if busy:
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings)
    # Ctrl-C and SIGTERM both stop everything, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        temporal = stack.spawn("temporal", temporal_command(settings), log_to_file=True)
        wait_for_port(ports(settings)[0].port, temporal, "the Temporal dev server")
        sink = stack.spawn(
            "mail-sink",
            [
                sys.executable,
                "-m",
                "devtools.mail_sink",
                "--port",
                str(settings.smtp_port),
                "--store",
                str(settings.mail_store_dir),
            ],
        )
        wait_for_port(settings.smtp_port, sink, "the SMTP sink")
        upgrade_to_head(settings.effective_database_url)
        # The worker may look a mail in doubt up in the sink's store, which is on this machine.
        os.environ.setdefault("CONTESTFLOW_MAIL_DELIVERY_LOOKUP", "sink")
        stack.spawn("worker", [sys.executable, "-m", "workers.main"])
        api = stack.spawn("api", [sys.executable, "-m", "api.serve"])
        wait_for_port(settings.api_port, api, "the API")
        data = settings.data_dir.resolve()
        worker_metrics = ""
        if settings.worker_metrics_port:
            worker_metrics = f"  http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics (worker)"
        print(
            f"""
ContestFlow is running (Ctrl-C stops everything):
  API           http://{settings.api_host}:{settings.api_port}      docs: http://{settings.api_host}:{settings.api_port}/docs
  Temporal UI   {settings.effective_temporal_ui_url}
  Temporal      {settings.temporal_address}  namespace {settings.temporal_namespace}, \
task queue {settings.temporal_task_queue}
  SMTP sink     smtp://{settings.smtp_host}:{settings.smtp_port}  mail stored in {data / "mail"}
  Database      {settings.effective_database_url}
  Metrics       http://{settings.api_host}:{settings.api_port}/metrics (API){worker_metrics}
  Data folder   {data}  (Temporal state: temporal.db, logs: logs/)
""",
            flush=True,
        )
        while True:
            for name, process in stack.processes:
                if process.poll() is not None:
                    print(
                        f"error: {name} exited with code {process.returncode}; stopping the stack",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
