-- Version 2: one record for every method type, and sealed auth_sessions.
-- Existing passkeys are kept as they are.

-- What the other method types keep: a sealed TOTP seed or a recovery code's
-- hash, where codes are sent, and how.
ALTER TABLE myaccount_methods
    ADD COLUMN secret            bytea,
    ADD COLUMN destination       text NOT NULL DEFAULT '',
    ADD COLUMN preferred_channel text NOT NULL DEFAULT '';

-- A credential id is registered once per relying party, whoever holds it and
-- under whichever WebAuthn type (passkey, webauthn-platform, webauthn-roaming).
DROP INDEX myaccount_methods_credential_key;
CREATE UNIQUE INDEX myaccount_methods_credential_key
    ON myaccount_methods (relying_party_id, credential_id)
    WHERE credential_id IS NOT NULL;

-- auth_sessions now carry their own state, sealed: pending enrollments are no
-- longer stored. Those begun before the upgrade cannot be verified after it
-- (the user starts again), as their auth_session is not sealed.
DROP TABLE myaccount_sessions;

-- What makes each auth_session single use, keyed by the SHA-256 of the
-- auth_session: whether it was used (a method created with it, or its
-- verification failed) and how many codes were tried with it. A row is
-- written at the first use or try, and deleted some time after expires_at.
-- Only a create marks a session used in a transaction that waits for the disk
-- (its method must survive a crash); spends, attempts and the cleanup commit
-- without waiting (synchronous_commit off), so a crash may forget the last
-- few of them.
CREATE TABLE myaccount_session_uses (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    expires_at timestamptz      NOT NULL,
    used       boolean          NOT NULL,
    attempts   integer          NOT NULL
);

CREATE INDEX myaccount_session_uses_expires_at ON myaccount_session_uses (expires_at);
