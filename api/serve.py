"""`python -m api.serve`: the API under uvicorn with JSON logs (one line per request, with its workflow id)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from config import get_settings
from telemetry.logs import configure_logging


def main() -> None:
    """Serve on the configured host and port; logging stays ours (uvicorn's own config is not applied)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
