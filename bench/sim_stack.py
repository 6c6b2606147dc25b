"""The embedded stack for the national simulator, in a fresh folder of its own: the Temporal dev server (SQLite
file), the SMTP sink, the app database (SQLite, or a fresh PostgreSQL database), the worker processes and the API
(`python -m api.serve`), each its own process so its peak memory can be read from /proc."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from config import Settings
from db.migrate import upgrade_to_head
from devtools.stack import temporal_command, wait_for_port

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def fresh_postgres() -> str:
    """A new empty database on the local PostgreSQL server."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES}/{name}"


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SimStack:
    """Start everything, hand out the settings, read memory, stop everything."""

    def __init__(self, database: str, workers: int, overrides: dict[str, object] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="contestflow-national-"))
        self.database = database
        self.workers = workers
        self.overrides = overrides or {}  # settings under test (worker_sandbox, worker_cached_workflows, ...)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._commands: dict[str, tuple[list[str], dict[str, str], Path]] = {}
        self._retired: dict[str, float] = {}  # CPU seconds of the earlier lives of restarted processes
        self.settings = Settings.model_validate({})

    async def start(self) -> Settings:
        """Every process up and listening; the database migrated."""
        url = await fresh_postgres() if self.database == "postgres" else ""
        self.settings = Settings.model_validate(
            {
                "data_dir": self.folder,
                "database_url": url,
                "temporal_address": f"127.0.0.1:{free_port()}",
                "temporal_ui_port": free_port(),
                "temporal_task_queue": "national",
                "smtp_port": free_port(),
                "api_port": free_port(),
                "worker_metrics_port": 0,
                "log_level": "WARNING",
                "token_minutes": 24 * 60,  # judges stay signed in for a long run
                "personal_data_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "mail_delivery_lookup": "sink",  # the store below is the sink's: a mail in doubt is looked up there
            }
            | self.overrides
        )
        s = self.settings
        env = {f"CONTESTFLOW_{k.upper()}": str(v) for k, v in s.model_dump().items()}
        logs = self.folder / "logs"
        logs.mkdir(parents=True)
        temporal = self._spawn("temporal", temporal_command(s), env, logs)
        await asyncio.to_thread(wait_for_port, int(s.temporal_address.rpartition(":")[2]), temporal, "Temporal")
        store = s.mail_store_dir
        sink = [sys.executable, "-m", "devtools.mail_sink", "--port", str(s.smtp_port), "--store", str(store)]
        await asyncio.to_thread(wait_for_port, s.smtp_port, self._spawn("mail-sink", sink, env, logs), "SMTP sink")
        await asyncio.to_thread(upgrade_to_head, s.effective_database_url)
        for n in range(self.workers):
            self._spawn(f"worker-{n}", [sys.executable, "-m", "workers.main"], env, logs)
        api = self._spawn("api", [sys.executable, "-m", "api.serve"], env, logs)
        await asyncio.to_thread(wait_for_port, s.api_port, api, "the API")
        return s

    def _spawn(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
        out = (logs / f"{name}.log").open("ab")
        process = subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT)
        self.processes[name] = process
        self._commands[name] = (command, env, logs)
        return process

    def worker_names(self) -> list[str]:
        """The worker processes' names."""
        return [name for name in self.processes if name.startswith("worker-")]

    def running(self, name: str) -> bool:
        """Whether that process is alive."""
        return self.processes[name].poll() is None

    def signal(self, name: str, sig: int) -> None:
        """Send a signal to one process of the stack and reap it if it ends."""
        process = self.processes[name]
        self._retired[name] = self._retired.get(name, 0.0) + cpu_seconds(process.pid)  # its CPU so far
        process.send_signal(sig)
        if sig == signal.SIGKILL:
            process.wait(10)

    async def restart_gracefully(self, name: str) -> None:
        """Stop a service with SIGTERM (as a deploy does), start it again and wait until it listens."""
        s = self.settings
        ports = {"temporal": int(s.temporal_address.rpartition(":")[2]), "api": s.api_port}
        process = self.processes[name]
        self._retired[name] = self._retired.get(name, 0.0) + cpu_seconds(process.pid)
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)
        self.restart(name)
        await asyncio.to_thread(wait_for_port, ports[name], self.processes[name], name)

    def restart(self, name: str) -> None:
        """Start that process again with the same command and settings (its peak memory then counts afresh)."""
        command, env, logs = self._commands[name]
        self._spawn(name, command, env, logs)

    def pids(self, names: tuple[str, ...]) -> dict[str, int]:
        """The process ids of these parts of the stack."""
        return {name: self.processes[name].pid for name in names}

    def peak_memory_mb(self) -> dict[str, float]:
        """Peak RSS of the API, each worker and the dev server so far."""
        return {name: round(peak_rss_mb(p.pid), 1) for name, p in self.processes.items() if p.poll() is None}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each running process of the stack."""
        return {
            name: cpu_seconds(p.pid) + self._retired.get(name, 0.0)
            for name, p in self.processes.items()
            if p.poll() is None
        }

    def stop(self) -> None:
        """Terminate in reverse order; kill what lingers."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
