/**
 * PostgreSQL schema migrations, applied in order (migrate.ts). The columns are SQLite's (schema.ts
 * there) with PostgreSQL's types: instants stay bigint milliseconds, as the Store interface has them;
 * JSON documents are jsonb; lists of names are text[]; flags are boolean. Keys and names sort by
 * byte ("C" collation) whatever the database's locale, as ids are time-ordered by byte and
 * pagination relies on it. The payload stays text: it is delivered and signed exactly as stored.
 *
 * Every foreign key leads an index (cascading deletes never scan a table); so does every access path.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE applications (
    id text COLLATE "C" PRIMARY KEY,
    uid text COLLATE "C" CONSTRAINT applications_uid UNIQUE,
    name text NOT NULL,
    metadata jsonb NOT NULL,
    rate_limit integer,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  CREATE TABLE event_types (
    name text COLLATE "C" CONSTRAINT event_types_name PRIMARY KEY,
    description text NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    deprecated boolean NOT NULL DEFAULT false,
    group_name text,
    schemas jsonb,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  CREATE TABLE endpoints (
    id text COLLATE "C" PRIMARY KEY,
    app_id text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    uid text COLLATE "C",
    url text NOT NULL,
    description text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    filter_types text[] COLLATE "C",
    channels text[] COLLATE "C",
    metadata jsonb NOT NULL,
    headers jsonb NOT NULL,
    rate_limit integer,
    version integer NOT NULL,
    secrets jsonb NOT NULL,
    signing text NOT NULL,
    server_ca_pem text,
    client_cert_pem text,
    client_key_pem text,
    allow_http boolean NOT NULL DEFAULT false,
    tls_policy jsonb,
    failing_since bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    CONSTRAINT endpoints_uid UNIQUE (app_id, uid)
  );
  -- Listing and fan-out by application; the unique (app_id, uid) index leads with app_id too, but
  -- pages are by id.
  CREATE INDEX endpoints_app ON endpoints (app_id, id);
  -- The few disabled endpoints, whose pending rows are not due (queue statistics).
  CREATE INDEX endpoints_disabled ON endpoints (id) WHERE disabled;

  CREATE TABLE messages (
    id text COLLATE "C" PRIMARY KEY,
    app_id text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    event_type text COLLATE "C" NOT NULL,
    event_id text COLLATE "C",
    channels text[] COLLATE "C",
    tags text[] COLLATE "C",
    payload text NOT NULL,
    created_at bigint NOT NULL,
    deliver_at bigint,
    payload_expires_at bigint,
    expunged_at bigint,
    CONSTRAINT messages_event_id UNIQUE (app_id, event_id)
  );
  CREATE INDEX messages_app ON messages (app_id, id);
  CREATE INDEX messages_payload_expiry ON messages (payload_expires_at)
    WHERE payload_expires_at IS NOT NULL AND expunged_at IS NULL;

  -- The queue: one row per (message, endpoint) and resend. A claimed row keeps status 1 (pending),
  -- with locked_by and a lease token set and next_attempt_at moved to the end of its lease, so an
  -- expired lease makes it due again without a reaper. lease_token identifies one claim (a
  -- completion will be fenced on it).
  CREATE TABLE deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    app_id text COLLATE "C" NOT NULL,
    status smallint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    locked_by text,
    locked_until bigint,
    lease_token uuid,
    trigger_type smallint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  -- The due-rows index: pending rows by endpoint, then due time. The claim walks the endpoints in it
  -- (one descent each) and takes each one's earliest rows; finished rows leave it.
  CREATE INDEX deliveries_due ON deliveries (endpoint_id, next_attempt_at, id) WHERE status = 1;
  -- An endpoint's messages (by message id, as they are paged) and its cascade.
  CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, msg_id, id);
  -- A message's destinations, its latest delivery to an endpoint, and its cascade.
  CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id, id);
  -- A worker's leases, released at its shutdown.
  CREATE INDEX deliveries_locked_by ON deliveries (locked_by) WHERE locked_by IS NOT NULL;
  -- Queue rows churn (every claim and completion writes a new row version): vacuum them sooner
  -- than the default 20% of the table, so that dead index entries do not pile up in front of claims.
  ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);

  CREATE TABLE attempts (
    id text COLLATE "C" PRIMARY KEY,
    delivery_id bigint NOT NULL,
    msg_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    app_id text COLLATE "C" NOT NULL,
    url text NOT NULL,
    status smallint NOT NULL,
    status_code integer NOT NULL,
    response text NOT NULL,
    duration_ms integer NOT NULL,
    failure_kind text,
    failure_message text,
    tls jsonb,
    trigger_type smallint NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX attempts_msg ON attempts (msg_id, id);
  CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

  CREATE TABLE tokens (
    hash text COLLATE "C" PRIMARY KEY,
    app_id text COLLATE "C" REFERENCES applications (id) ON DELETE CASCADE,
    expires_at bigint,
    capabilities text[],
    session_id text COLLATE "C"
  );
  CREATE INDEX tokens_app ON tokens (app_id, session_id);
  CREATE INDEX tokens_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE idempotency (
    scope text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    status integer NOT NULL,
    body text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (scope, key)
  );
  CREATE INDEX idempotency_expiry ON idempotency (expires_at);

  CREATE TABLE background_tasks (
    id text COLLATE "C" PRIMARY KEY,
    app_id text COLLATE "C" REFERENCES applications (id) ON DELETE CASCADE,
    task text NOT NULL,
    status text NOT NULL,
    data jsonb NOT NULL,
    updated_at bigint NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX background_tasks_app ON background_tasks (app_id, id);
  CREATE INDEX background_tasks_expiry ON background_tasks (expires_at);

  -- jsonb for a text column that may hold anything (an idempotent reply's body): NULL when it is
  -- not JSON, where a cast would fail the whole statement.
  CREATE FUNCTION hookwarden_jsonb_or_null(value text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT AS $$
  BEGIN
    RETURN value::jsonb;
  EXCEPTION WHEN others THEN
    RETURN NULL;
  END $$;
  `,
  `
  -- Feature flags: an event type's (only application tokens holding one of them see it) and those a
  -- portal token holds. NULL: none.
  ALTER TABLE event_types ADD COLUMN feature_flags text[];
  ALTER TABLE tokens ADD COLUMN feature_flags text[];

  -- Integrations (Svix's): named keys that act on one application. The key is kept, as endpoint
  -- secrets are, because Svix's API hands it out again; requests find it by its digest.
  CREATE TABLE integrations (
    id text COLLATE "C" PRIMARY KEY,
    app_id text COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name text NOT NULL,
    feature_flags text[],
    key text NOT NULL,
    key_hash text COLLATE "C" NOT NULL CONSTRAINT integrations_key_hash UNIQUE,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE INDEX integrations_app ON integrations (app_id, id);

  -- The identity every node shares (identity/database-files.ts): the PKI store's files, the admin
  -- token and the signing key, secret ones sealed with the master key before they get here.
  CREATE TABLE platform_files (
    name text COLLATE "C" PRIMARY KEY,
    content text NOT NULL,
    secret boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  `,
];
