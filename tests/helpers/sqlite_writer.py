"""Another process's SQLite writer, for tests that check who holds the write lock."""

from __future__ import annotations

import sqlite3

from flask import Flask


def write_from_elsewhere(app: Flask, code: str) -> str:
    """Insert a branch from a separate connection that gives up after 0.2 s (the app waits
    15 s): "written", or SQLite's error, such as "database is locked"."""
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO branch (code, name, is_active) VALUES (?, ?, 1)", (code, code)
        )
        connection.execute("COMMIT")
        return "written"
    except sqlite3.OperationalError as error:
        return str(error)
    finally:
        connection.close()
