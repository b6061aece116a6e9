import mqtt, { type MqttClient } from 'mqtt'
import { Api } from './api'
import { memoryOf, sleep, spawnCore, tempDir, waitFor } from './processes'

export interface FootprintConfig {
  entities: number
  measurementsPerEntity: number
  valuesPerMeasurement: number
  clients: number
  settleMs: number
}

export interface FootprintResult {
  /** RSS of the idle core right after start, bytes. */
  idleRss: number
  /** RSS after registering the entities and settling, bytes. */
  rss: number
  /** Peak RSS of the core process over its life (VmHWM), bytes. */
  peak: number
  entities: number
  values: number
  /** The data dir, kept so the ready time can be measured on a data dir with these entities. */
  dataDir: string
}

/**
 * (f) Resident memory of `edgetwin serve` with N child devices, registered as thin-edge.io connectors
 * do (retained `te/device/<name>//` with `@type: child-device`, QoS 1), each then sending a few
 * measurements; read from /proc/<pid>/status after the ingest is idle and a settle period.
 */
export async function footprint(config: FootprintConfig): Promise<FootprintResult> {
  const dataDir = tempDir('footprint')
  const core = await spawnCore(dataDir)
  const clients: MqttClient[] = []
  try {
    const api = new Api(core.ready)
    await sleep(1000)
    const idleRss = memoryOf(core.pid).rss
    const before = await api.status()
    for (let c = 0; c < config.clients; c++) {
      clients.push(
        await mqtt.connectAsync(core.ready.mqtt, { clientId: `bench-fp-${c}`, reconnectPeriod: 0 }),
      )
    }
    const names = Array.from({ length: config.valuesPerMeasurement }, (_, i) => `v${i}`)
    await Promise.all(
      clients.map(async (client, c) => {
        for (let k = c; k < config.entities; k += config.clients) {
          const id = `device/fp-${String(k).padStart(4, '0')}//`
          await client.publishAsync(
            `te/${id}`,
            JSON.stringify({ '@type': 'child-device', name: `Bench child ${k}` }),
            {
              qos: 1,
              retain: true,
            },
          )
          for (let m = 0; m < config.measurementsPerEntity; m++) {
            const body = Object.fromEntries(names.map((name, i) => [name, (k * 31 + m * 7 + i) % 100]))
            client.publish(`te/${id}/m/env`, JSON.stringify(body), { qos: 0 })
          }
        }
      }),
    )
    const values = config.entities * config.measurementsPerEntity * config.valuesPerMeasurement
    const after = await waitFor(
      `${config.entities} entities registered and their values stored`,
      async () => {
        const status = await api.status()
        return status.entities >= before.entities + config.entities &&
          status.ingest.values >= before.ingest.values + values &&
          status.ingest.pendingWrites === 0
          ? status
          : undefined
      },
      60_000,
      50,
    )
    // The UI's first screen lists every entity; that is part of a realistic footprint.
    const listed = await api.get<unknown[]>('/api/v1/entities')
    if (listed.length < config.entities)
      throw new Error(`GET /api/v1/entities listed ${listed.length} entities`)
    await sleep(config.settleMs)
    const { rss, peak } = memoryOf(core.pid)
    return {
      idleRss,
      rss,
      peak,
      entities: after.entities - before.entities,
      values: after.ingest.values - before.ingest.values,
      dataDir,
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await core.stop()
  }
}
