import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BatchWriter } from '../../../src-main/core/store/writer'
import { tempDir } from '../../helpers/core'

describe('BatchWriter (group commit)', () => {
  let db: Database.Database
  let errors: unknown[]
  let writer: BatchWriter

  beforeEach(() => {
    db = new Database(path.join(tempDir(), 'w.db'))
    db.pragma('journal_mode = WAL')
    db.exec('CREATE TABLE t (v INTEGER NOT NULL UNIQUE)')
    errors = []
    writer = new BatchWriter(db, { maxOps: 100, maxDelayMs: 20, onError: (e) => errors.push(e) })
  })
  afterEach(() => {
    writer.stop()
    db.close()
  })

  const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n

  it('commits queued operations together after the delay, not one by one', async () => {
    const commits = vi.fn()
    writer.beforeEachCommit({ write: commits, committed: () => {} })
    for (let v = 0; v < 50; v++) writer.write(() => db.prepare('INSERT INTO t VALUES (?)').run(v))
    expect(count()).toBe(0)
    await vi.waitFor(() => expect(count()).toBe(50))
    expect(commits).toHaveBeenCalledTimes(1)
  })

  it('flushes on the next turn when an acknowledgement waits, and acknowledges only after commit', async () => {
    writer.write(() => db.prepare('INSERT INTO t VALUES (1)').run())
    const seen: number[] = []
    await new Promise<void>((resolve) =>
      writer.afterCommit(() => {
        seen.push(count())
        resolve()
      }, true),
    )
    expect(seen).toEqual([1])
  })

  it('flushes at once when the batch is full', async () => {
    for (let v = 0; v < 100; v++) writer.write(() => db.prepare('INSERT INTO t VALUES (?)').run(v))
    await new Promise((resolve) => setImmediate(resolve))
    expect(count()).toBe(100)
  })

  it('keeps the good operations of a batch when one fails, and reports the failure', () => {
    writer.write(() => db.prepare('INSERT INTO t VALUES (1)').run())
    writer.write(() => db.prepare('INSERT INTO t VALUES (1)').run()) // violates UNIQUE
    writer.write(() => db.prepare('INSERT INTO t VALUES (2)').run())
    writer.flush()
    expect(count()).toBe(2)
    expect(errors.length).toBeGreaterThan(0)
  })

  it('writes buffered work again when its batch rolls back, so nothing buffered is lost', () => {
    const buffered = [10, 11]
    writer.beforeEachCommit({
      write: () => {
        for (const v of buffered) db.prepare('INSERT INTO t VALUES (?)').run(v)
      },
      committed: () => buffered.splice(0),
    })
    writer.write(() => db.prepare('INSERT INTO t VALUES (10)').run()) // collides with a buffered row
    writer.flush()
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([{ v: 10 }, { v: 11 }])
    expect(buffered).toEqual([])
  })

  it('flushes what is queued on stop and schedules nothing after', () => {
    writer.write(() => db.prepare('INSERT INTO t VALUES (7)').run())
    writer.stop()
    expect(count()).toBe(1)
  })
})
