-- Find ledger entries of one kind (e.g. every checkpoint.timestamped) without a scan.
CREATE INDEX events_action ON events (action, seq);
