"""The embedded stack for development and tests: Temporal binaries, an SMTP sink, the launcher."""
