/**
 * Schema migrations, applied in order inside one transaction each; `user_version` records the last
 * one applied. Kept to portable SQL where it costs nothing (PostgreSQL is the next backend); JSON
 * columns are TEXT here and will be jsonb there.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    uid TEXT UNIQUE,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    rate_limit INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE event_types (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    deprecated INTEGER NOT NULL DEFAULT 0,
    group_name TEXT,
    schemas TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE endpoints (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    uid TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    filter_types TEXT,
    channels TEXT,
    metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    rate_limit INTEGER,
    version INTEGER NOT NULL,
    secrets TEXT NOT NULL,
    signing TEXT NOT NULL,
    server_ca_pem TEXT,
    client_cert_pem TEXT,
    client_key_pem TEXT,
    allow_http INTEGER NOT NULL DEFAULT 0,
    failing_since INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (app_id, uid)
  );
  CREATE INDEX endpoints_app ON endpoints (app_id, id);
  CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id TEXT,
    channels TEXT,
    tags TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (app_id, event_id)
  );
  CREATE INDEX messages_app ON messages (app_id, id);
  -- One row per (message, endpoint): the queue. A claimed row has locked_by set and next_attempt_at
  -- moved to the end of its lease, so an expired lease simply makes it due again.
  -- No AUTOINCREMENT: it costs a write to sqlite_sequence per row, and ids need only be unique.
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    msg_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    locked_by TEXT,
    locked_until INTEGER,
    trigger_type INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
  CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status, next_attempt_at);
  CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    msg_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    failure_kind TEXT,
    failure_message TEXT,
    tls TEXT,
    trigger_type INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX attempts_msg ON attempts (msg_id, id);
  CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
  CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    app_id TEXT REFERENCES applications(id) ON DELETE CASCADE,
    expires_at INTEGER
  );
  CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  );
  `,
  // Per-endpoint TLS policy (a partial CipherPolicy merged over the server's).
  `ALTER TABLE endpoints ADD COLUMN tls_policy TEXT;`,
  // Cascading deletes find child rows through these indexes: without the first, every deleted
  // message scanned the whole queue (an application with 8,000 messages took 1.6 s to delete,
  // growing with the square of its size; 29 ms with it). It also serves a message's destinations.
  `CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);
   CREATE INDEX tokens_app ON tokens (app_id);`,
  // A portal token's grant (JSON list of capabilities; NULL: the whole application) and session.
  `ALTER TABLE tokens ADD COLUMN capabilities TEXT;
   ALTER TABLE tokens ADD COLUMN session_id TEXT;`,
  // When a message's payload was deleted (expunged): it is never sent again.
  `ALTER TABLE messages ADD COLUMN expunged_at INTEGER;`,
  // When a payload's retention ends (Svix's payloadRetentionPeriod); the sweep finds them by it.
  `ALTER TABLE messages ADD COLUMN payload_expires_at INTEGER;
   CREATE INDEX messages_payload_expiry ON messages (payload_expires_at)
     WHERE payload_expires_at IS NOT NULL AND expunged_at IS NULL;`,
  // Expired idempotency replies and tokens are deleted by the retention sweep, found by these.
  `CREATE INDEX idempotency_expiry ON idempotency (expires_at);
   CREATE INDEX tokens_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;`,
  // Background tasks (recover, replay, purge), for GET /api/v1/background-task.
  `CREATE TABLE background_tasks (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX background_tasks_app ON background_tasks (app_id, id);
  CREATE INDEX background_tasks_expiry ON background_tasks (expires_at);`,
  // Tasks over the whole environment (usage statistics) belong to no application. SQLite cannot
  // relax NOT NULL in place: the table is rebuilt.
  `CREATE TABLE background_tasks_new (
    id TEXT PRIMARY KEY,
    app_id TEXT REFERENCES applications(id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  INSERT INTO background_tasks_new SELECT id, app_id, task, status, data, updated_at, expires_at FROM background_tasks;
  DROP TABLE background_tasks;
  ALTER TABLE background_tasks_new RENAME TO background_tasks;
  CREATE INDEX background_tasks_app ON background_tasks (app_id, id);
  CREATE INDEX background_tasks_expiry ON background_tasks (expires_at);`,
  // When a scheduled message (deliverAt) is first due, echoed in its MessageOut as Svix does.
  `ALTER TABLE messages ADD COLUMN deliver_at INTEGER;`,
  // Feature flags (JSON lists): an event type's, which only application tokens holding one of them
  // see, and those a portal token holds.
  `ALTER TABLE event_types ADD COLUMN feature_flags TEXT;
   ALTER TABLE tokens ADD COLUMN feature_flags TEXT;`,
  // Integrations (Svix's): named keys that act on one application. The key is kept, as endpoint
  // secrets are, because Svix's API hands it out again; requests find it by its digest.
  `CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    feature_flags TEXT,
    key TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX integrations_app ON integrations (app_id, id);`,
];
