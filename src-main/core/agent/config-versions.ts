import { createHash } from 'node:crypto'
import type { Database } from 'better-sqlite3'
import type { ConfigVersionView } from '../api/types'

export type ConfigSource = ConfigVersionView['source']

interface VersionRow {
  id: number
  entity: string
  type: string
  version: number
  sha256: string
  size: number
  source: ConfigSource
  operation_id: number | null
  actor: string | null
  time: number
  path: string | null
}

const COLUMNS =
  'id, entity, type, version, sha256, length(content) AS size, source, operation_id, actor, time, path'

const view = (r: VersionRow): ConfigVersionView => ({
  id: r.id,
  entity: r.entity,
  type: r.type,
  version: r.version,
  sha256: r.sha256,
  size: r.size,
  source: r.source,
  operationId: r.operation_id,
  actor: r.actor,
  time: r.time,
  path: r.path,
})

/**
 * Every configuration file content seen for an entity and type: read by a snapshot, sent by an
 * update or a restore. Numbered per entity and type; content that equals the latest version adds
 * no version.
 */
export class ConfigVersionStore {
  constructor(private readonly db: Database) {}

  record(fields: {
    entity: string
    type: string
    content: Buffer
    source: ConfigSource
    operationId: number | null
    actor: string | null
    path: string | null
    time: number
  }): ConfigVersionView {
    const sha256 = createHash('sha256').update(fields.content).digest('hex')
    const latest = this.latest(fields.entity, fields.type)
    if (latest?.sha256 === sha256) return latest
    const version = (latest?.version ?? 0) + 1
    const { lastInsertRowid } = this.db
      .prepare(`INSERT INTO config_versions (entity, type, version, sha256, content, source, operation_id, actor, time, path)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        fields.entity,
        fields.type,
        version,
        sha256,
        fields.content,
        fields.source,
        fields.operationId,
        fields.actor,
        fields.time,
        fields.path,
      )
    return this.get(Number(lastInsertRowid)) as ConfigVersionView
  }

  latest(entity: string, type: string): ConfigVersionView | undefined {
    const row = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM config_versions WHERE entity = ? AND type = ? ORDER BY version DESC LIMIT 1`,
      )
      .get(entity, type) as VersionRow | undefined
    return row && view(row)
  }

  /** Newest first. */
  list(entity: string, type: string): ConfigVersionView[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM config_versions WHERE entity = ? AND type = ? ORDER BY version DESC`)
      .all(entity, type) as VersionRow[]
    return rows.map(view)
  }

  /** The latest version of each type of an entity. */
  latestPerType(entity: string): ConfigVersionView[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM config_versions c WHERE entity = ?
        AND version = (SELECT max(version) FROM config_versions WHERE entity = c.entity AND type = c.type)`)
      .all(entity) as VersionRow[]
    return rows.map(view)
  }

  get(id: number): ConfigVersionView | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM config_versions WHERE id = ?`).get(id) as
      | VersionRow
      | undefined
    return row && view(row)
  }

  content(id: number): Buffer | undefined {
    const row = this.db.prepare('SELECT content FROM config_versions WHERE id = ?').get(id) as
      | { content: Buffer }
      | undefined
    return row?.content
  }
}
