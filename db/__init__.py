"""The application database: SQLAlchemy models, async sessions, Alembic migrations."""
