-- The send budget the replicas share: one row per Bot API send in the last minute, on the
-- database's clock, so that together they stay under SEND_RATE in any one-second window.
CREATE TABLE send_log (
    sent_at timestamptz NOT NULL
);
CREATE INDEX send_log_by_time ON send_log (sent_at);
