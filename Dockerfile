# One image for the API, the worker and the migration job (docker-compose.yml picks the command).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY config config
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY workers workers
COPY api api
COPY db db
COPY devtools devtools
COPY catalogs catalogs
COPY cli cli
COPY security security
COPY storage storage
COPY checks checks
COPY telemetry telemetry
COPY email_templates email_templates
RUN pip install --no-cache-dir ".[otel]" && python -m compileall -q /app  # bytecode for the sandbox's re-imports
USER nobody
CMD ["python", "-m", "workers.main"]
