"""Persistence: one async repository (SQLite, PostgreSQL), numbered SQL migrations for each."""
