"""The HTTP API (FastAPI): organisers, judges, verifiers and teams act here; it reads the database."""
