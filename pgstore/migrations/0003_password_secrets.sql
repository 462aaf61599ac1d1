-- Version 3: passwords. A password method keeps the hashes it had before (for
-- the history rule) and when it was last set. Existing rows get an empty
-- history and no time.
ALTER TABLE myaccount_methods
    ADD COLUMN secret_history bytea[] NOT NULL DEFAULT '{}',
    ADD COLUMN secret_set_at  timestamptz;
