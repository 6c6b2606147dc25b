"""Temporal workflows: one per project, one per competition. Deterministic; no I/O here."""
