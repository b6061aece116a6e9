import type { Database } from 'better-sqlite3'
import { brokerSchemaSql } from '../broker/persistence-schema'

// Numbered migrations, applied in order at start; PRAGMA user_version records the last one applied.
// Times are epoch milliseconds (REAL, so device timestamps keep their sub-millisecond part).
const migrations: string[] = [
  /* 1 */ `
  CREATE TABLE entities (
    id INTEGER PRIMARY KEY,
    topic_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    parent TEXT,
    external_id TEXT,
    health_endpoint TEXT,
    registration TEXT NOT NULL,
    auto_registered INTEGER NOT NULL DEFAULT 0,
    registered_at REAL NOT NULL,
    last_seen REAL
  );
  CREATE INDEX entities_parent ON entities(parent);

  CREATE TABLE twin (
    entity_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (entity_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE entity_config (
    entity_id INTEGER PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
  );

  CREATE TABLE capabilities (
    entity_id INTEGER NOT NULL,
    operation TEXT NOT NULL,
    payload TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (entity_id, operation)
  ) WITHOUT ROWID;

  -- metadata of m/e/a types (units for measurements), keyed by channel letter and type
  CREATE TABLE type_meta (
    entity_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (entity_id, channel, type)
  ) WITHOUT ROWID;

  CREATE TABLE health (
    entity_id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    updated_at REAL NOT NULL
  );

  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    last_time REAL,
    last_value REAL,
    UNIQUE (entity_id, type, name)
  );

  -- The samples of one series from one batch (sample-chunk.ts): count float64 times, then values.
  CREATE TABLE sample_chunks (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    first_time REAL NOT NULL,
    last_time REAL NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX sample_chunks_series_last ON sample_chunks(series_id, last_time);

  CREATE TABLE rollups_minute (
    series_id INTEGER NOT NULL,
    bucket REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    sum REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;

  CREATE TABLE rollups_hour (
    series_id INTEGER NOT NULL,
    bucket REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    sum REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    time REAL NOT NULL,
    text TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  CREATE INDEX events_entity_time ON events(entity_id, time);
  CREATE INDEX events_time ON events(time);

  -- Alarms are state: one open row per (entity, type); a cleared alarm stays as history.
  CREATE TABLE alarms (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'acknowledged', 'cleared')),
    count INTEGER NOT NULL,
    first_time REAL NOT NULL,
    last_time REAL NOT NULL,
    payload TEXT NOT NULL,
    acknowledged_at REAL,
    acknowledged_by TEXT,
    cleared_at REAL,
    cleared_by TEXT
  );
  CREATE UNIQUE INDEX alarms_open ON alarms(entity_id, type) WHERE status != 'cleared';
  CREATE INDEX alarms_status ON alarms(status, last_time);

  -- Append-only record of operator actions.
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT,
    target TEXT,
    before TEXT,
    after TEXT
  );
  CREATE INDEX audit_entity ON audit(entity, time);
  ${brokerSchemaSql}
  `,
  /* 2 */ `
  -- UI sessions: the SHA-256 of the cookie value, so a copy of the database opens no session.
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    user_agent TEXT
  ) WITHOUT ROWID;
  `,
  /* 3 */ `
  -- Every command seen on te/+/+/+/+/cmd/+/+, whoever requested or runs it. A topic holds one
  -- command until its requester clears it; the row stays as history.
  CREATE TABLE operations (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    operation TEXT NOT NULL,
    cmd_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    payload TEXT NOT NULL,
    requested_by TEXT,
    executor TEXT NOT NULL CHECK (executor IN ('edgetwin', 'external')),
    workflow_version TEXT,
    parent_id INTEGER,
    -- the agent's own notes for resuming (boot id before a restart, a running script's process group)
    agent_state TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    cleared INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX operations_topic ON operations(entity, operation, cmd_id) WHERE cleared = 0;
  CREATE INDEX operations_entity ON operations(entity, id);

  CREATE TABLE operation_states (
    operation_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    time REAL NOT NULL,
    reason TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (operation_id, seq)
  ) WITHOUT ROWID;

  -- The workflow definitions commands ran with, so a command resumes with its own version after the
  -- file changed (thin-edge.io #3305).
  CREATE TABLE workflow_versions (
    version TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    source TEXT NOT NULL,
    definition TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE config_versions (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('snapshot', 'update', 'restore')),
    operation_id INTEGER,
    actor TEXT,
    time REAL NOT NULL,
    path TEXT,
    UNIQUE (entity, type, version)
  );

  -- The software list an entity reported last.
  CREATE TABLE software (
    entity TEXT PRIMARY KEY,
    list TEXT NOT NULL,
    updated_at REAL NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 4 */ `
  -- Cloud sync. The outbox holds upstream items until the cloud broker acknowledges them; seqs
  -- never repeat (AUTOINCREMENT), so <site>/<stream>/<seq> names an item for ever.
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    -- what the bound may drop: 2 measurements (first), 1 events, 0 never (state, alarms, operations)
    droppable INTEGER NOT NULL,
    -- measurement values in the item (0 for other kinds)
    vals INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    time REAL NOT NULL,
    -- the item's own fields as a JSON object (id, seq, kind, entity and time are added when sent)
    body TEXT NOT NULL
  );
  CREATE INDEX outbox_droppable ON outbox(droppable, seq) WHERE droppable > 0;

  -- Counters and markers of the sync service (stream id, sent and dropped totals).
  CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  -- Downstream requests already applied, with what they were answered, so a redelivered one is
  -- not applied twice and gets the same answer.
  CREATE TABLE sync_inbox (id TEXT PRIMARY KEY, time REAL NOT NULL, answer TEXT NOT NULL) WITHOUT ROWID;

  -- Desired properties per entity: a removed one stays as a tombstone (value NULL) for the merge.
  CREATE TABLE desired (
    entity TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT,
    version INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    origin TEXT NOT NULL,
    updated_at REAL NOT NULL,
    policy TEXT NOT NULL,
    ack TEXT,
    PRIMARY KEY (entity, name)
  ) WITHOUT ROWID;

  CREATE TABLE desired_docs (
    entity TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    synced_version INTEGER,
    -- the desired_update command in flight: {"cmdId", "version", "properties"}
    command TEXT
  ) WITHOUT ROWID;

  CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    property TEXT NOT NULL,
    time REAL NOT NULL,
    policy TEXT NOT NULL,
    edge TEXT NOT NULL,
    cloud TEXT NOT NULL,
    winner TEXT NOT NULL CHECK (winner IN ('edge', 'cloud')),
    resolution TEXT
  );
  CREATE INDEX conflicts_open ON conflicts(resolution, id);
  `,
  /* 5 */ `
  -- Alarm workflow: a shelf (suppressed until a time, by whom, why), operator comments and the raise
  -- history as JSON arrays, and the first-out mark of a burst.
  ALTER TABLE alarms ADD COLUMN shelved_until REAL;
  ALTER TABLE alarms ADD COLUMN shelved_by TEXT;
  ALTER TABLE alarms ADD COLUMN shelve_reason TEXT;
  ALTER TABLE alarms ADD COLUMN comments TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE alarms ADD COLUMN first_out INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE alarms ADD COLUMN occurrences TEXT NOT NULL DEFAULT '[]';
  CREATE INDEX alarms_shelved ON alarms(shelved_until) WHERE shelved_until IS NOT NULL;
  `,
  /* 6 */ `
  -- How a series is shown and judged, per entity and series: the JSON of SeriesSettings. A row
  -- from \`default\` was written by the built-in simulation for its own line, never over a person's.
  CREATE TABLE series_settings (
    entity TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('user', 'default')),
    updated_at REAL NOT NULL,
    PRIMARY KEY (entity, type, name)
  ) WITHOUT ROWID;
  `,
]

export function migrate(db: Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number
  if (from > migrations.length) {
    throw new Error(`database schema version ${from} is newer than this EdgeTwin (${migrations.length})`)
  }
  for (let version = from + 1; version <= migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version - 1] as string)
      db.pragma(`user_version = ${version}`)
    })()
  }
  return { from, to: migrations.length }
}
