// Registrations whose parent never comes: the core's CPU per message as more of them wait, and the
// time to ready after a restart with them retained. Run after `npm run build`:
//   npx tsx bench/held-registrations.ts [--held 80000] [--batch 10000] [--restart 30000]
// Each message is `te/device/hN//` `{"@type":"child-device","@parent":"device/nopN//"}`: every parent
// is distinct and never arrives.
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { Api } from './api'
import { cleanupAll, cpuSecondsOf, memoryOf, removeDir, spawnCore, tempDir } from './processes'

const { values } = parseArgs({
  options: {
    held: { type: 'string', default: '80000' },
    batch: { type: 'string', default: '10000' },
    restart: { type: 'string', default: '30000' },
  },
})
const HELD = Number(values.held)
const BATCH = Number(values.batch)
const RESTART = Number(values.restart)
/** QoS 1 messages in flight per client. */
const WINDOW = 200

async function publishOrphans(url: string, from: number, count: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 })
  const inFlight = new Set<Promise<unknown>>()
  for (let k = from; k < from + count; k++) {
    const payload = JSON.stringify({ '@type': 'child-device', '@parent': `device/nop${k}//` })
    const sent: Promise<unknown> = client
      .publishAsync(`te/device/h${k}//`, payload, { qos: 1, retain: true })
      .finally(() => inFlight.delete(sent))
    inFlight.add(sent)
    if (inFlight.size >= WINDOW) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  await client.endAsync()
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`

async function main(): Promise<void> {
  const args = ['--max-held-registrations', String(Math.max(HELD, RESTART))]
  const dataDir = tempDir('held')
  const core = await spawnCore(dataDir, { args })
  const api = new Api(core.ready)
  process.stdout.write(
    `| Registrations held | Core CPU per message | Wall per message | RSS |\n|---|---|---|---|\n`,
  )
  for (let from = 0; from < HELD; from += BATCH) {
    const cpu = cpuSecondsOf(core.pid)
    const wall = performance.now()
    await publishOrphans(core.ready.mqtt, from, BATCH)
    const perMessageUs = ((cpuSecondsOf(core.pid) - cpu) / BATCH) * 1e6
    const wallUs = ((performance.now() - wall) / BATCH) * 1000
    process.stdout.write(
      `| ${from + BATCH} | ${perMessageUs.toFixed(0)} µs | ${wallUs.toFixed(0)} µs | ${mb(memoryOf(core.pid).rss)} |\n`,
    )
  }
  const status = (await api.status()) as unknown as { pendingRegistrationCount: number }
  process.stdout.write(`status: ${status.pendingRegistrationCount} held\n`)
  await core.stop()
  removeDir(dataDir)

  const restartDir = tempDir('held-restart')
  const first = await spawnCore(restartDir, { args })
  await publishOrphans(first.ready.mqtt, 0, RESTART)
  await first.stop()
  const second = await spawnCore(restartDir, { args, timeoutMs: 120_000 })
  process.stdout.write(
    `restart with ${RESTART} retained held registrations: ready in ${second.readyMs.toFixed(0)} ms\n`,
  )
  await second.stop()
  const fresh = await spawnCore(tempDir('held-fresh'), { args })
  process.stdout.write(`fresh data dir: ready in ${fresh.readyMs.toFixed(0)} ms\n`)
  await fresh.stop()
}

main()
  .catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`)
    process.exitCode = 1
  })
  .finally(cleanupAll)
