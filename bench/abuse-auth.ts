// (n6) The percent-encoded path: every token-protected GET route of the OpenAPI document asked for as
// `/%61pi/v1/…` with no credential, and the live stream's WebSocket the same way. The resources behind
// routes with ids are made first (a series, an alarm, a configuration snapshot with its file and
// version), and each route is also asked for as documented with the token: only a route that
// answers 2xx that way can show a bypass.
import mqtt from 'mqtt'
import WebSocket from 'ws'
import type { OperationView } from '../src-main/core/api/types'
import { PUBLIC } from '../test/helpers/http-routes'
import { ANSWER_TIMEOUT_MS, type Answer, request } from './abuse-probes'
import { Api } from './api'
import { type CoreReady, removeDir, spawnCore, tempDir, waitFor } from './processes'

export interface BypassRoute {
  path: string
  /** As documented, with the bearer token. */
  plain: Answer
  /** `/%61pi/…`, no credential. */
  encoded: Answer
}

export interface BypassResult {
  routes: BypassRoute[]
  /** `GET /%61pi/v1/stream` upgraded without a credential: `open`, or the status or error it got. */
  stream: Answer
}

const is2xx = (a: Answer) => typeof a === 'number' && a >= 200 && a < 300
export const bypassed = (r: BypassResult) => r.routes.filter((route) => is2xx(route.encoded)).length
/** Routes whose documented spelling with the token answered 2xx: the ones a bypass can be seen on. */
export const comparable = (r: BypassResult) => r.routes.filter((route) => is2xx(route.plain)).length

const MAIN = encodeURIComponent('device/main//')

function streamWithoutToken(ws: string): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${ws}/%61pi/v1/stream`)
    const timer = setTimeout(() => finish(`no answer in ${ANSWER_TIMEOUT_MS} ms`), ANSWER_TIMEOUT_MS)
    const finish = (answer: Answer) => {
      clearTimeout(timer)
      socket.terminate()
      resolve(answer)
    }
    socket.once('open', () => finish('open'))
    socket.once('unexpected-response', (_request, response) => finish(response.statusCode ?? 'no status'))
    socket.once('error', (error) => finish(error.message))
  })
}

/** A measurement, an alarm and a configuration snapshot of the main device; the ids of each. */
async function makeResources(ready: CoreReady): Promise<Record<string, number>> {
  const api = new Api(ready)
  const client = await mqtt.connectAsync(ready.mqtt, { reconnectPeriod: 0 })
  await client.publishAsync('te/device/main///m/env', '{"temperature":21.5}', { qos: 1 })
  await client.publishAsync('te/device/main///a/bench', '{"text":"bench","severity":"minor"}', {
    qos: 1,
    retain: true,
  })
  await client.endAsync()
  const response = await fetch(new URL(`/api/v1/entities/${MAIN}/operations`, ready.http), {
    method: 'POST',
    headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ operation: 'config_snapshot', payload: { type: 'tedge-configuration-plugin' } }),
  })
  if (response.status !== 201) throw new Error(`config_snapshot: ${response.status} ${await response.text()}`)
  const operation = (await response.json()) as OperationView
  await waitFor(
    'the configuration snapshot',
    async () => (await api.get<OperationView>(`/api/v1/operations/${operation.id}`)).terminal || undefined,
    20_000,
    100,
  )
  const first = async <T extends { id: number }>(what: string, pathname: string): Promise<number> =>
    waitFor(what, async () => (await api.get<T[]>(pathname))[0]?.id, 10_000, 100)
  return {
    series: await waitFor('a series', async () => (await api.seriesOf('device/main//'))[0]?.id, 10_000, 100),
    alarms: await first('an alarm', '/api/v1/alarms'),
    operations: operation.id,
    'config-versions': await first(
      'a configuration version',
      `/api/v1/entities/${MAIN}/configs/tedge-configuration-plugin/versions`,
    ),
  }
}

/** The path of a route template with its parameters filled: the main device, or a made id. */
function fill(template: string, ids: Record<string, number>): string {
  const collection = /^\/api\/v1\/([^/]+)\//.exec(template)?.[1] ?? ''
  return template
    .replace(/^\/api\/v1\/entities\/\{id\}/, `/api/v1/entities/${MAIN}`)
    .replace('{type}', 'tedge-configuration-plugin')
    .replace('{id}', String(ids[collection] ?? 1))
}

export async function encodedPathBypass(): Promise<BypassResult> {
  const dataDir = tempDir('abuse-auth')
  const core = await spawnCore(dataDir)
  try {
    const ids = await makeResources(core.ready)
    const doc = (await (await fetch(new URL('/api/v1/openapi.json', core.ready.http))).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const templates = Object.entries(doc.paths)
      .filter(([template, methods]) => 'get' in methods && !PUBLIC.has(`GET ${template}`))
      .map(([template]) => template)
    const routes: BypassRoute[] = []
    for (const template of templates) {
      const path = fill(template, ids)
      const plain = await request(core.ready, path, { token: true })
      const encoded = await request(core.ready, path.replace(/^\/api\//, '/%61pi/'))
      routes.push({ path, plain: plain.answer, encoded: encoded.answer })
    }
    const stream = await streamWithoutToken(core.ready.http.replace(/^http/, 'ws'))
    return { routes, stream }
  } finally {
    await core.stop()
    removeDir(dataDir)
  }
}
