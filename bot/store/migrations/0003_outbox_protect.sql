-- 0003: the outbox. A turn's reply is stored in the turn's own transaction and deleted
-- once it reached Telegram, so a crash between the commit and the send loses nothing: a
-- redelivered update, or the next start, sends what is still here. `body` holds the
-- messages (Telegram HTML, quoting the person's words): encrypted when a key is set.
CREATE TABLE outbox (
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    update_id  INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, update_id)
);
CREATE INDEX outbox_age ON outbox (created_at);

-- A person's own choice: messages that quote their words are sent protected (no
-- forwarding or saving), on unless they turn it off in /settings.
ALTER TABLE users ADD COLUMN protect INTEGER NOT NULL DEFAULT 1;
