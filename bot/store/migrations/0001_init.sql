-- 0001: the first schema.
-- Datetimes are ISO-8601 UTC text of fixed width ("2025-01-31T20:00:00.000000+00:00"),
-- so comparing the text compares the times. Booleans are 0/1.
-- Every table about a person has a user_id column: delete_user erases them all.

CREATE TABLE users (
    user_id      INTEGER PRIMARY KEY,               -- Telegram user id
    created_at   TEXT    NOT NULL,
    timezone     TEXT    NOT NULL,                  -- IANA name
    checkin_time TEXT    NOT NULL,                  -- local HH:MM
    discreet     INTEGER NOT NULL CHECK (discreet IN (0, 1)),
    checkins     INTEGER NOT NULL CHECK (checkins IN (0, 1)),
    country      TEXT    NOT NULL,                  -- ISO code or ''
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),  -- 0: blocked the bot
    last_seen    TEXT                               -- last committed turn
);

CREATE TABLE sessions (
    user_id    INTEGER PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,                    -- position JSON, or 'null' (the menu)
    updated_at TEXT    NOT NULL
);

CREATE TABLE answers (
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

-- AUTOINCREMENT: ids are never reused, even after a person's rows are erased.
CREATE TABLE journal (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    flow       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX journal_user ON journal (user_id, created_at);

CREATE TABLE commitments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    due         TEXT    NOT NULL,                   -- as the person said it; may be ''
    status      TEXT    NOT NULL DEFAULT 'open',    -- 'open' until resolved
    created_at  TEXT    NOT NULL,
    resolved_at TEXT
);
CREATE INDEX commitments_user ON commitments (user_id, status);

CREATE TABLE follow_ups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    flow       TEXT    NOT NULL,
    due_at     TEXT    NOT NULL,                    -- UTC
    status     TEXT    NOT NULL DEFAULT 'pending',  -- pending, claimed, sent, ...
    created_at TEXT    NOT NULL,
    claimed_at TEXT,
    sent_at    TEXT
);
CREATE INDEX follow_ups_due ON follow_ups (status, due_at);
CREATE INDEX follow_ups_user ON follow_ups (user_id);

CREATE TABLE completions (
    user_id      INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    flow         TEXT    NOT NULL,
    completed_at TEXT    NOT NULL
);
CREATE INDEX completions_user ON completions (user_id, flow);

-- The last few Telegram update ids committed per person, to drop redeliveries.
CREATE TABLE processed_updates (
    user_id   INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    update_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, update_id)
) WITHOUT ROWID;
