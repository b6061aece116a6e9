import type { Database } from 'better-sqlite3'
import type { SoftwareModuleView } from '../api/types'

/** thin-edge.io's `currentSoftwareList`: modules grouped by software type. */
export type SoftwareList = Array<{ type: string; modules: Array<{ name: string; version?: string }> }>

/** The software each entity reported last (a successful `software_list`). */
export class SoftwareInventory {
  constructor(private readonly db: Database) {}

  set(entity: string, list: unknown, time: number): void {
    if (!Array.isArray(list)) return
    this.db
      .prepare(
        'INSERT INTO software (entity, list, updated_at) VALUES (?, ?, ?) ON CONFLICT (entity) DO UPDATE SET list = excluded.list, updated_at = excluded.updated_at',
      )
      .run(entity, JSON.stringify(list), time)
  }

  get(entity: string): { modules: SoftwareModuleView[]; updatedAt: number } | undefined {
    const row = this.db.prepare('SELECT list, updated_at FROM software WHERE entity = ?').get(entity) as
      | { list: string; updated_at: number }
      | undefined
    if (!row) return undefined
    const modules: SoftwareModuleView[] = []
    for (const group of JSON.parse(row.list) as SoftwareList) {
      if (!group || typeof group.type !== 'string' || !Array.isArray(group.modules)) continue
      for (const m of group.modules) {
        if (m && typeof m.name === 'string')
          modules.push({
            type: group.type,
            name: m.name,
            version: typeof m.version === 'string' ? m.version : null,
          })
      }
    }
    return { modules, updatedAt: row.updated_at }
  }
}
