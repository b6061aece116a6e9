// Tables of the MQTT broker's persistence (sqlite-persistence.ts). A packet is stored as `packet`, the JSON of
// every field but the payload, and `payload`, the payload as given (BLOB for a Buffer, TEXT for a string), so
// a payload is never base64-encoded. Retained messages and subscriptions are reloaded in rowid order, which
// is their insertion order, as in aedes' in-memory store.
export const brokerSchemaSql = `
  CREATE TABLE broker_retained (
    topic TEXT PRIMARY KEY,
    packet TEXT NOT NULL,
    payload BLOB
  );

  -- Only sessions with clean=false: aedes calls addSubscriptions for no other client.
  CREATE TABLE broker_subscriptions (
    client_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    qos INTEGER NOT NULL,
    options TEXT NOT NULL,
    PRIMARY KEY (client_id, topic)
  );

  -- Outgoing QoS 1/2 queue per client in delivery order (seq). broker_id, broker_counter and message_id
  -- repeat packet fields so aedes' lookups (outgoingUpdate, outgoingClearMessageId) are single queries.
  CREATE TABLE broker_outgoing (
    seq INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    broker_id TEXT,
    broker_counter INTEGER,
    message_id INTEGER,
    packet TEXT NOT NULL,
    payload BLOB
  );
  CREATE INDEX broker_outgoing_client ON broker_outgoing(client_id, seq);

  -- Incoming QoS 2 PUBLISH packets awaiting PUBREL [MQTT-4.3.3].
  CREATE TABLE broker_incoming (
    client_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    packet TEXT NOT NULL,
    payload BLOB,
    PRIMARY KEY (client_id, message_id)
  ) WITHOUT ROWID;

  CREATE TABLE broker_wills (
    client_id TEXT PRIMARY KEY,
    packet TEXT NOT NULL,
    payload BLOB
  );
`
