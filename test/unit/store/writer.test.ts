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

  describe('when the storage refuses the batch (SQLITE_FULL)', () => {
    // max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk does, and raising it is
    // the disk getting room again.
    let states: Array<Error | undefined>
    beforeEach(() => {
      writer.stop()
      states = []
      writer = new BatchWriter(db, {
        maxOps: 100_000,
        maxDelayMs: 5,
        onError: (e) => errors.push(e),
        onStorageState: (e) => states.push(e),
      })
      db.exec('CREATE TABLE big (v TEXT)')
    })
    const pages = () => db.pragma('page_count', { simple: true }) as number
    const fill = (rows: number) => {
      for (let i = 0; i < rows; i++)
        writer.write(() => db.prepare('INSERT INTO big VALUES (?)').run('x'.repeat(2000)))
    }

    it('releases no acknowledgement and no notification, keeps the batch, and writes it once there is room', async () => {
      db.pragma(`max_page_count = ${pages() + 2}`)
      fill(50)
      const acked: number[] = []
      writer.afterCommit(() => acked.push(1), true)
      writer.write(() => db.prepare('INSERT INTO t VALUES (5)').run())
      writer.afterCommit(() => acked.push(2), true)
      expect(writer.flush()).toBe(false)
      expect(acked).toEqual([])
      expect(count()).toBe(0)
      expect((writer.failing as { code?: string }).code).toBe('SQLITE_FULL')
      expect(states.map((e) => (e as { code?: string } | undefined)?.code)).toEqual(['SQLITE_FULL'])
      // Retries by itself and keeps failing while the disk stays full; later work waits behind it.
      writer.write(() => db.prepare('INSERT INTO t VALUES (6)').run())
      writer.afterCommit(() => acked.push(3), true)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(acked).toEqual([])
      expect(errors).toHaveLength(1)

      db.pragma('max_page_count = 1000000')
      await vi.waitFor(() => expect(acked).toEqual([1, 2, 3]))
      expect(count()).toBe(2)
      expect((db.prepare('SELECT count(*) AS n FROM big').get() as { n: number }).n).toBe(50)
      expect(writer.failing).toBeUndefined()
      expect(states).toHaveLength(2)
      expect(states[1]).toBeUndefined()
    })

    it('keeps buffered work too, written whole with its batch once there is room', async () => {
      const buffered = [20, 21]
      writer.beforeEachCommit({
        write: () => {
          for (const v of buffered) db.prepare('INSERT INTO t VALUES (?)').run(v)
        },
        committed: () => buffered.splice(0),
      })
      db.pragma(`max_page_count = ${pages() + 1}`)
      fill(50)
      expect(writer.flush()).toBe(false)
      expect(buffered).toEqual([20, 21])
      db.pragma('max_page_count = 1000000')
      await vi.waitFor(() => expect(count()).toBe(2))
      expect(buffered).toEqual([])
    })

    it('says on stop that the last batch could not be stored', () => {
      db.pragma(`max_page_count = ${pages() + 1}`)
      fill(50)
      expect(writer.stop()).toBe(false)
    })
  })

  it('drops buffered work that fails on its data, keeps the batch, and does not wedge', () => {
    let bad = true
    writer.beforeEachCommit({
      write: () => {
        if (bad) db.prepare('INSERT INTO t VALUES (NULL)').run() // violates NOT NULL
      },
      committed: () => {
        bad = false
      },
    })
    const acked: number[] = []
    writer.write(() => db.prepare('INSERT INTO t VALUES (3)').run())
    writer.afterCommit(() => acked.push(1))
    expect(writer.flush()).toBe(true)
    expect(count()).toBe(1)
    expect(acked).toEqual([1])
    expect(writer.failing).toBeUndefined()
    expect((errors[0] as { code?: string }).code).toBe('SQLITE_CONSTRAINT_NOTNULL')
  })

  it('runs every post-commit callback even when one throws, and reports it', () => {
    const ran: number[] = []
    writer.afterCommit(() => {
      throw new Error('listener bug')
    })
    writer.afterCommit(() => ran.push(1))
    writer.flush()
    expect(ran).toEqual([1])
    expect((errors[0] as Error).message).toBe('listener bug')
  })

  it('flushes what is queued on stop and schedules nothing after', () => {
    writer.write(() => db.prepare('INSERT INTO t VALUES (7)').run())
    writer.stop()
    expect(count()).toBe(1)
  })
})
