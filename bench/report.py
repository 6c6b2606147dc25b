"""Print a benchmark's report and keep it as JSON in bench/results/, with the machine it ran on."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def publish(name: str, figures: dict[str, Any]) -> Path:
    """Stamp the figures with time, machine and Python, print them aligned, write `results/<name>.json`."""
    report = {
        "benchmark": name.split("-")[0],
        "at": datetime.now(UTC).isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        **figures,
    }
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:>{width}}: {value}")
    target = RESULTS / f"{name}.json"
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {target}")
    return target
