-- Version 4: connected accounts (Auth0's Token Vault). A flow is known by the
-- hash of its current single-use value (ticket, provider state, connect
-- code); its state and an account's provider tokens are sealed by the API.
CREATE TABLE myaccount_connect_flows (
    handle     text COLLATE "C" NOT NULL PRIMARY KEY,
    id         text COLLATE "C" NOT NULL,
    issuer     text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL,
    sealed     bytea       NOT NULL
);

CREATE INDEX myaccount_connect_flows_user ON myaccount_connect_flows (issuer, user_id);
CREATE INDEX myaccount_connect_flows_expires_at ON myaccount_connect_flows (expires_at);

-- One account per user, connection and subject at the provider.
CREATE TABLE myaccount_connected_accounts (
    issuer     text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    connection text COLLATE "C" NOT NULL,
    subject    text COLLATE "C" NOT NULL,
    scopes     text[]      NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked    boolean     NOT NULL DEFAULT false,
    tokens     bytea       NOT NULL,
    version    bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (issuer, user_id, id),
    UNIQUE (issuer, user_id, connection, subject)
);
