// (n3) Cloud sync across restarts: a device publishes counters at QoS 1 without pause to the core's
// fixed MQTT port while the core is stopped (SIGTERM) and killed (SIGKILL) again and again, so
// messages arrive while each core starts and while it stops. mosquitto plays the cloud and
// `edgetwin cloud-tail` prints what the site delivered; every acknowledged value must be there.
import mqtt from 'mqtt'
import { freePort } from '../test/helpers/mosquitto'
import { Api } from './api'
import { type Child, sleep, spawnCli, spawnCore, spawnMosquitto, tempDir, waitFor } from './processes'

export interface SyncRestartsConfig {
  /** Cores started and ended in turn by SIGTERM and SIGKILL (the first by SIGTERM). */
  cycles: number
  /** Values each core must acknowledge before it is ended. */
  acksPerCycle: number
  /** QoS 1 messages the device keeps unacknowledged. */
  inFlight: number
  site: string
  /** Longest wait for the cloud to have every acknowledged value after the last start. */
  drainTimeoutMs: number
}

export interface SyncRestartsResult {
  sigterm: number
  sigkill: number
  published: number
  acknowledged: number
  /** Distinct counter values the cloud consumer printed. */
  received: number
  /** Acknowledged by the core, never printed by the consumer. */
  lost: number
  /** Values printed more than once (redelivery after a kill: allowed, counted). */
  duplicates: number
  /** Values printed that the device never sent: the count would be wrong. */
  unknown: number
  items: number
  /** Exit codes of SIGTERM stops other than 0. */
  badExits: Array<number | null>
  seconds: number
  /** The last core's outbox once the consumer had everything (or the drain timed out). */
  backlogItems: number
  /** Values the outbox bound dropped. */
  dropped: number
}

const ENTITY = 'device/restarts//'

/** `edgetwin cloud-tail`: every counter value of ENTITY it prints, in order. */
async function cloudTail(
  url: string,
  site: string,
): Promise<{ child: Child; values: number[]; items: () => number }> {
  const child = spawnCli(['cloud-tail', '--url', url, '--site-id', site])
  const values: number[] = []
  let items = 0
  let partial = ''
  let stderr = ''
  child.process.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.process.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.trim()) continue
      items++
      const item = JSON.parse(line) as {
        kind: string
        entity: string
        samples?: Array<{ type: string; names: string[]; rows: number[][] }>
      }
      if (item.kind !== 'measurements' || item.entity !== ENTITY) continue
      for (const group of item.samples ?? []) {
        const index = group.names.indexOf('n')
        // A row is [time, ...values in the order of names].
        if (group.type === 'counter' && index >= 0)
          for (const row of group.rows) values.push(row[index + 1] as number)
      }
    }
  })
  await waitFor(
    'cloud-tail subscribed',
    () => {
      if (child.process.exitCode !== null) throw new Error(`cloud-tail exited: ${stderr}`)
      return stderr.includes('cloud-tail: subscribed') || undefined
    },
    10_000,
    20,
  )
  return { child, values, items: () => items }
}

export async function syncRestarts(config: SyncRestartsConfig): Promise<SyncRestartsResult> {
  const began = performance.now()
  const cloud = await spawnMosquitto(await freePort())
  const tail = await cloudTail(cloud.url, config.site)
  const dataDir = tempDir('abuse-sync')
  const port = await freePort()
  const device = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 20, connectTimeout: 1000 })
  device.on('error', () => {})
  const acknowledged = new Set<number>()
  let published = 0
  let running = true
  const loop = (async () => {
    const pending = new Set<Promise<void>>()
    for (let n = 1; running; n++) {
      published = n
      const p: Promise<void> = device
        .publishAsync(`te/${ENTITY}/m/counter`, JSON.stringify({ n }), { qos: 1 })
        .then(() => {
          acknowledged.add(n)
        })
        .catch(() => {})
        .finally(() => pending.delete(p))
      pending.add(p)
      if (pending.size >= config.inFlight) await Promise.race(pending)
      // A steady stream (about 5,000 msg/s at most), not a flood each restart has to drain.
      if (n % 10 === 0) await sleep(2)
    }
  })()
  const badExits: Array<number | null> = []
  let sigterm = 0
  let sigkill = 0
  try {
    const portArgs = ['--mqtt-port', String(port)]
    const syncArgs = ['--sync-url', cloud.url, '--site-id', config.site]
    const until = (count: number) =>
      waitFor(`${count} values acknowledged`, () => acknowledged.size >= count || undefined, 30_000)
    for (let cycle = 0; cycle < config.cycles; cycle++) {
      const core = await spawnCore(dataDir, { args: [...portArgs, ...(cycle === 0 ? syncArgs : [])] })
      await until(acknowledged.size + config.acksPerCycle)
      if (cycle % 2 === 0) {
        const code = await core.stop()
        sigterm++
        if (code !== 0) badExits.push(code)
      } else {
        core.process.kill('SIGKILL')
        await core.stop()
        sigkill++
      }
    }
    const last = await spawnCore(dataDir, { args: portArgs })
    await until(acknowledged.size + config.acksPerCycle)
    running = false
    await loop
    await device.endAsync(true)
    const api = new Api(last.ready)
    const everything = () => {
      const got = new Set(tail.values)
      return [...acknowledged].every((n) => got.has(n)) || undefined
    }
    await waitFor('every acknowledged value at the cloud', everything, config.drainTimeoutMs, 100).catch(
      () => {},
    )
    const status = await api.syncStatus()
    const code = await last.stop()
    if (code !== 0) badExits.push(code)
    const got = new Set(tail.values)
    return {
      sigterm,
      sigkill,
      published,
      acknowledged: acknowledged.size,
      received: got.size,
      lost: [...acknowledged].filter((n) => !got.has(n)).length,
      duplicates: tail.values.length - got.size,
      unknown: [...got].filter((n) => !Number.isInteger(n) || n < 1 || n > published).length,
      items: tail.items(),
      badExits,
      seconds: (performance.now() - began) / 1000,
      backlogItems: status.backlog.items,
      dropped: status.dropped.values,
    }
  } finally {
    running = false
    device.end(true)
    await tail.child.stop()
    await cloud.stop()
  }
}
