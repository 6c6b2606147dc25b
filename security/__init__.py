"""Secrets: password and API-key hashing, session tokens, personal-data encryption."""
