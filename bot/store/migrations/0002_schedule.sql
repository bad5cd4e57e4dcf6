-- 0002: the schedule (daily check-ins, claimed follow-ups), new settings, the promise
-- ledger's daily checks, crisis flags, marks; sessions.state moves to format 2
-- ({"v":2,"position":...,"suspended":...}; the code still reads format 1).
-- Free-text columns (answers.value, journal.text, commitments.text and due, sessions.state)
-- may from now on hold "v1:..." encrypted values (bot/store/crypto.py).

-- New settings (codec.SETTING_NAMES: one column per Settings field).
ALTER TABLE users ADD COLUMN quiet_hours  TEXT NOT NULL DEFAULT '';  -- "22:00-07:00" or ''
ALTER TABLE users ADD COLUMN paused_until TEXT NOT NULL DEFAULT '';  -- ISO date or ''
ALTER TABLE users ADD COLUMN safety       TEXT NOT NULL DEFAULT '';  -- '', clear, flagged

-- The daily check-in. The database owns it: the dispatcher claims what is due.
ALTER TABLE users ADD COLUMN next_checkin_at    TEXT;  -- UTC; NULL: none planned
ALTER TABLE users ADD COLUMN checkin_claimed_at TEXT;  -- UTC; NULL: not claimed
ALTER TABLE users ADD COLUMN last_checkin_date  TEXT;  -- the person's local ISO date
ALTER TABLE users ADD COLUMN last_checkin_at    TEXT;  -- UTC, when it was sent

-- Exactly the check-ins that may be claimed now or later, in due order (user_id, the rowid,
-- breaks ties): claimed, inactive or switched-off people leave the index, so a claim reads
-- only rows it takes, however many are claimed and not yet completed.
CREATE INDEX users_due ON users (next_checkin_at)
    WHERE next_checkin_at IS NOT NULL AND checkin_claimed_at IS NULL
      AND active = 1 AND checkins = 1;
-- Claims in flight, to take back those never completed.
CREATE INDEX users_claimed ON users (checkin_claimed_at) WHERE checkin_claimed_at IS NOT NULL;
-- People to plan a first check-in for (after this upgrade, or after a stop).
CREATE INDEX users_unplanned ON users (user_id)
    WHERE next_checkin_at IS NULL AND active = 1 AND checkins = 1;

-- A pause's timer: continue from this node of the flow when due ('' for a flow's start).
ALTER TABLE follow_ups ADD COLUMN node TEXT NOT NULL DEFAULT '';
-- Claims read follow_ups_due (status, due_at) for both 'pending' and 'claimed' rows.

-- load() counts completions per flow over the last 7 and 30 days from the index alone.
DROP INDEX completions_user;
CREATE INDEX completions_user ON completions (user_id, flow, completed_at);

-- A promise kept on one of the person's local days (KeepPromise); once per day.
CREATE TABLE promise_checks (
    user_id       INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    commitment_id INTEGER NOT NULL,                 -- commitments.id of the same person
    day           TEXT    NOT NULL,                 -- the person's local ISO date
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, commitment_id, day)
) WITHOUT ROWID;

-- Words of danger were seen (FlagCrisis): a kind and a time, NEVER the words.
CREATE TABLE crisis_flags (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX crisis_flags_user ON crisis_flags (user_id, created_at);

-- Something counted over time (Mark): shown as progress.<name>.
CREATE TABLE marks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX marks_user ON marks (user_id, name);
