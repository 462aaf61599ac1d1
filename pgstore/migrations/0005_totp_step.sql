-- Version 4: the last RFC 6238 time step a totp method accepted, so that a
-- code is accepted at most once. Existing methods start at 0: their next
-- code is accepted as before.
ALTER TABLE myaccount_methods
    ADD COLUMN totp_step bigint NOT NULL DEFAULT 0;
