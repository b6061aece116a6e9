import assert from 'node:assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import abstractPersistence, { type AbstractTestContext } from 'aedes-persistence/abstract.js'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { brokerSchemaSql } from '../../../src-main/core/broker/persistence-schema'
import { createSqlitePersistence, SqlitePersistence } from '../../../src-main/core/broker/sqlite-persistence'

// aedes-persistence's own conformance suite, written for node:test. These are the assertion methods of
// node:test's `t.assert` (node:assert in legacy mode, as the suite's deepEqual expectations assume).
const assertionNames = [
  'deepEqual',
  'deepStrictEqual',
  'doesNotMatch',
  'doesNotReject',
  'doesNotThrow',
  'equal',
  'fail',
  'ifError',
  'match',
  'notDeepEqual',
  'notDeepStrictEqual',
  'notEqual',
  'notStrictEqual',
  'ok',
  'rejects',
  'strictEqual',
  'throws',
] as const

/** node:test's `test(name, async t => …)` on top of vitest, with `t.plan(n)` checked when the body ends. */
function nodeTest(name: string, body: (t: AbstractTestContext) => Promise<void>): void {
  it(name, async () => {
    let planned: number | undefined
    let asserted = 0
    const counted: AbstractTestContext['assert'] = {}
    for (const assertionName of assertionNames) {
      const assertion = assert[assertionName] as (...args: unknown[]) => unknown
      counted[assertionName] = (...args: unknown[]) => {
        asserted++
        return assertion(...args)
      }
    }
    await body({
      plan: (count) => {
        planned = count
      },
      diagnostic: () => {},
      assert: counted,
    })
    if (planned !== undefined) expect(asserted, 'assertions made, as planned with t.plan()').toBe(planned)
  })
}

const directory = mkdtempSync(join(tmpdir(), 'edgetwin-persistence-abstract-'))
const openDatabases: Database.Database[] = []
let databaseCount = 0

function freshDatabase(): Database.Database {
  const db = new Database(join(directory, `broker-${++databaseCount}.db`))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(brokerSchemaSql)
  openDatabases.push(db)
  return db
}

afterEach(() => {
  for (const db of openDatabases.splice(0)) db.close()
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('SqlitePersistence (async interface) passes the aedes-persistence suite', () => {
  abstractPersistence({
    test: nodeTest,
    persistence: () => new SqlitePersistence({ db: freshDatabase() }),
    testAsync: true,
  })
})

describe('createSqlitePersistence (CallBackPersistence wrapper) passes the aedes-persistence suite', () => {
  abstractPersistence({
    test: nodeTest,
    persistence: () => createSqlitePersistence(freshDatabase()),
    testAsync: true,
  })
})
