"""Numbered SQL migrations (`NNNN_name.sql`), package data loaded with importlib.resources.

Each file runs once, in order, inside the transaction that also raises `PRAGMA user_version`
to its number. Never edit a released migration: add the next number.
"""
