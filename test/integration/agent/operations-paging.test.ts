import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import type { OperationView } from '../../../src-main/core/api/types'
import { startCore, type TestCore } from '../../helpers/core'

const CHILD = 'device/x//'
const CHILD_PARAM = encodeURIComponent(CHILD)
const CMD_IDS = ['c1', 'c2', 'c3', 'c4', 'c5']

let t: TestCore

beforeEach(async () => {
  t = await startCore()
})

afterEach(async () => {
  await t.stop()
})

/** A child that declares restart, with one retained `init` command per id, published oldest first. */
async function childWithCommands(): Promise<OperationView[]> {
  const client = await t.client()
  await client.publishAsync(`te/${CHILD}`, JSON.stringify({ '@type': 'child-device', name: 'X' }), {
    qos: 1,
    retain: true,
  })
  await client.publishAsync(`te/${CHILD}/cmd/restart`, '{}', { qos: 1, retain: true })
  await vi.waitFor(() => expect(t.core.parts.entities.capabilities(CHILD)?.has('restart')).toBe(true))
  for (const cmdId of CMD_IDS) {
    await client.publishAsync(`te/${CHILD}/cmd/restart/${cmdId}`, JSON.stringify({ status: 'init' }), {
      qos: 1,
      retain: true,
    })
  }
  let all: OperationView[] = []
  await vi.waitFor(
    async () => {
      all = await t.json<OperationView[]>(`/api/v1/operations?entity=${CHILD_PARAM}`)
      expect(all).toHaveLength(CMD_IDS.length)
    },
    { interval: 20 },
  )
  return all
}

const page = (query: string) => t.json<OperationView[]>(`/api/v1/operations?entity=${CHILD_PARAM}&${query}`)

describe('paging the operation history with before', () => {
  test('each page holds the next older commands, without overlap, until a short page ends it', async () => {
    const all = await childWithCommands()
    expect(all.map((o) => o.cmdId)).toEqual(['c5', 'c4', 'c3', 'c2', 'c1'])
    const ids = all.map((o) => o.id)

    const first = await page('limit=2')
    expect(first.map((o) => o.id)).toEqual(ids.slice(0, 2))
    const second = await page(`limit=2&before=${Math.min(...first.map((o) => o.id))}`)
    expect(second.map((o) => o.id)).toEqual(ids.slice(2, 4))
    const third = await page(`limit=2&before=${Math.min(...second.map((o) => o.id))}`)
    expect(third.map((o) => o.id)).toEqual(ids.slice(4))
    expect(third.map((o) => o.cmdId)).toEqual(['c1'])

    const seen = [...first, ...second, ...third].map((o) => o.id)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(ids)
    expect(await page(`limit=2&before=${Math.min(...seen)}`)).toEqual([])
  })

  test('before combines with the other filters and is validated as an operation id', async () => {
    const all = await childWithCommands()
    const [newest] = all
    const older = await t.json<OperationView[]>(
      `/api/v1/operations?operation=restart&status=init&before=${newest?.id}&limit=10`,
    )
    expect(older.map((o) => o.cmdId)).toEqual(['c4', 'c3', 'c2', 'c1'])

    for (const before of ['abc', '0', '1.5']) {
      const response = await t.http(`/api/v1/operations?before=${before}`)
      expect(response.status, before).toBe(400)
      expect(await response.json()).toMatchObject({ error: expect.stringContaining('before') })
    }
  })
})
