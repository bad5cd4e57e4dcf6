"""Numbered PostgreSQL migrations (`NNN_name.sql`), package data loaded with importlib.resources.

Each file runs once, in order, in the transaction that records its number in
`schema_version`. Never edit a released migration: add the next number. These are the
PostgreSQL store's own: the SQLite migrations (bot/store/migrations) number separately.
"""
