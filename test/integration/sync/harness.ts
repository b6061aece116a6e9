import type { MqttClient } from 'mqtt'
import { expect, vi } from 'vitest'
import type { SyncConfigInput, SyncStatusView } from '../../../src-main/core/api/types'
import type { TailItem } from '../../helpers/cloud-tail'

// Shared steps of the cloud sync tests: a real mosquitto plays the cloud broker.

export interface Api {
  http(pathname: string, init?: RequestInit): Promise<Response>
  json<T>(pathname: string): Promise<T>
}

export async function send(api: Api, method: string, pathname: string, body: unknown): Promise<Response> {
  return api.http(pathname, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

export async function configureSync(api: Api, input: SyncConfigInput): Promise<void> {
  const response = await send(api, 'PUT', '/api/v1/sync/config', input)
  expect(response.status, await response.clone().text()).toBe(200)
}

export function syncStatus(api: Api): Promise<SyncStatusView> {
  return api.json<SyncStatusView>('/api/v1/sync/status')
}

/** Polls the sync status until `test` holds; returns that status. */
export async function waitForStatus(
  api: Api,
  test: (status: SyncStatusView) => boolean,
  timeout = 20_000,
): Promise<SyncStatusView> {
  return vi.waitFor(
    async () => {
      const status = await syncStatus(api)
      if (!test(status)) throw new Error(`sync status not there yet: ${JSON.stringify(status)}`)
      return status
    },
    { timeout, interval: 100 },
  )
}

/** Registers child devices of the main device (retained, as a connector does). */
export async function registerChildren(client: MqttClient, entities: string[]): Promise<void> {
  for (const entity of entities) {
    await client.publishAsync(`te/${entity}`, JSON.stringify({ '@type': 'child-device' }), {
      qos: 1,
      retain: true,
    })
  }
}

/** Publishes `te/<entity>/m/counter` measurements `{"n": from..to}` at QoS 1; resolves once all are acknowledged. */
export async function publishCounters(
  client: MqttClient,
  entity: string,
  from: number,
  to: number,
): Promise<void> {
  for (let n = from; n <= to; n++) {
    await client.publishAsync(`te/${entity}/m/counter`, JSON.stringify({ n }), { qos: 1 })
  }
}

/** The counter values per entity, in the order the cloud received them. */
export function countersByEntity(items: TailItem[]): Map<string, number[]> {
  const result = new Map<string, number[]>()
  for (const item of items) {
    if (item.kind !== 'measurements') continue
    for (const group of item.samples as Array<{ type: string; names: string[]; rows: number[][] }>) {
      if (group.type !== 'counter') continue
      const index = group.names.indexOf('n')
      if (index < 0) continue
      const list = result.get(item.entity) ?? []
      for (const row of group.rows) list.push(row[index + 1] as number)
      result.set(item.entity, list)
    }
  }
  return result
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Each entity's items arrive in the order the edge queued them: seqs only grow per entity. */
export function expectOrderedPerEntity(items: TailItem[]): void {
  const last = new Map<string, number>()
  for (const item of items) {
    const key = `${item.stream}\u0000${item.entity}`
    expect(item.seq, `${item.entity} out of order`).toBeGreaterThan(last.get(key) ?? 0)
    last.set(key, item.seq)
  }
  expect(new Set(items.map((i) => i.id)).size).toBe(items.length)
}
