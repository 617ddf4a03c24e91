"""Persistence: one async repository over aiosqlite, numbered SQL migrations."""
