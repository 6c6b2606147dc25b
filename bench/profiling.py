"""py-spy on the stack's processes while the simulator runs: collapsed stacks kept in bench/results/ and the
functions that took the most samples printed, so optimisation starts from a measurement."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.sim_report import RESULTS


class Profiler:
    """One `py-spy record` per named process, stopped together."""

    def __init__(self, label: str, pids: dict[str, int]) -> None:
        self.files = {name: RESULTS / f"{label}-{name}.pyspy.txt" for name in pids}
        py_spy = str(Path(sys.executable).parent / "py-spy")
        self.processes = [
            subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--gil",  # samples holding the GIL: CPU spent, not time waiting
                    "--pid",
                    str(pid),
                    "--rate",
                    "40",
                    "--format",
                    "raw",
                    "--output",
                    str(self.files[n]),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n, pid in pids.items()
        ]

    def stop(self) -> dict[str, list[tuple[str, float]]]:
        """Stop recording; per process, the 12 functions with the most inclusive samples (share of all)."""
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            process.wait(60)
        return {name: hottest(path) for name, path in self.files.items() if path.exists()}


def hottest(path: Path, top: int = 12) -> list[tuple[str, float]]:
    """Functions by the share of samples in which they are on the stack (idle waiting excluded)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or "select (selectors.py" in stack or "epoll" in stack:
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame.split(" (")[0] + " (" + frame.split(" (")[-1]] += samples
    return [(frame, round(n / total, 3)) for frame, n in inclusive.most_common(top)] if total else []
