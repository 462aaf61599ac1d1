-- The schema of pgstore, version 1. Names are unqualified: Migrate runs this
-- with search_path set to the store's schema when one is configured.

-- One row per user that has asked for a WebAuthn user handle.
CREATE TABLE myaccount_users (
    issuer      text  NOT NULL,
    user_id     text  NOT NULL,
    user_handle bytea NOT NULL,
    PRIMARY KEY (issuer, user_id)
);

-- Authentication methods. The passkey columns are set for passkeys.
CREATE TABLE myaccount_methods (
    issuer             text COLLATE "C" NOT NULL,
    user_id            text COLLATE "C" NOT NULL,
    id                 text COLLATE "C" NOT NULL,
    type               text        NOT NULL,
    name               text        NOT NULL DEFAULT '',
    identity_user_id   text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    credential_id      bytea,
    public_key         bytea,
    aaguid             bytea,
    sign_count         bigint      NOT NULL DEFAULT 0,
    backup_eligible    boolean     NOT NULL DEFAULT false,
    backed_up          boolean     NOT NULL DEFAULT false,
    transports         text[],
    attestation_format text        NOT NULL DEFAULT '',
    user_agent         text        NOT NULL DEFAULT '',
    relying_party_id   text        NOT NULL DEFAULT '',
    user_handle        bytea,
    PRIMARY KEY (issuer, user_id, id)
);

-- A credential id is registered once per relying party, whoever holds it.
CREATE UNIQUE INDEX myaccount_methods_credential_key
    ON myaccount_methods (relying_party_id, credential_id)
    WHERE type = 'passkey';

-- Pending enrollments, keyed by the hash of the auth_session.
CREATE TABLE myaccount_sessions (
    id         text        NOT NULL PRIMARY KEY,
    issuer     text        NOT NULL,
    user_id    text        NOT NULL,
    type       text        NOT NULL,
    expires_at timestamptz NOT NULL,
    data       bytea       NOT NULL
);

CREATE INDEX myaccount_sessions_expires_at ON myaccount_sessions (expires_at);
