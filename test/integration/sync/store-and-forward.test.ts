import { afterEach, describe, expect, it, vi } from 'vitest'
import { CliProcesses, kill9 } from '../../helpers/cli'
import { startCloudTail } from '../../helpers/cloud-tail'
import { startCore, type TestCore, tempDir } from '../../helpers/core'
import { freePort, type Mosquitto, startMosquitto } from '../../helpers/mosquitto'
import {
  configureSync,
  countersByEntity,
  expectOrderedPerEntity,
  publishCounters,
  range,
  registerChildren,
  waitForStatus,
} from './harness'

const SITE = 'plant-7'
const PROBES = ['device/probe1//', 'device/probe2//', 'device/probe3//']

describe('store-and-forward to a real mosquitto', () => {
  const processes = new CliProcesses()
  let cloud: Mosquitto | undefined
  let core: TestCore | undefined

  afterEach(async () => {
    await core?.stop()
    core = undefined
    await processes.cleanup()
    await cloud?.dispose()
    cloud = undefined
  })

  it('delivers every item exactly once, in order per entity, across a cloud broker outage', async () => {
    cloud = await startMosquitto({ persistence: true })
    const tail = await startCloudTail(processes, [
      '--url',
      cloud.url,
      '--site-id',
      SITE,
      '--session',
      'outage',
    ])
    // The simulated line publishes throughout; the probes publish counters that must all arrive.
    core = await startCore({ sim: true, seed: 7 })
    await configureSync(core, { url: cloud.url, siteId: SITE, batchMs: 100, enabled: true })
    await waitForStatus(core, (s) => s.state === 'connected')
    const device = await core.client()
    await registerChildren(device, PROBES)
    await Promise.all(PROBES.map((probe) => publishCounters(device, probe, 1, 50)))

    await cloud.stop()
    await waitForStatus(core, (s) => s.state === 'disconnected')
    await Promise.all(PROBES.map((probe) => publishCounters(device, probe, 51, 150)))
    const during = await waitForStatus(core, (s) => s.backlog.values >= 300)
    expect(during.backlog.items).toBeGreaterThan(0)

    await cloud.start()
    await Promise.all(PROBES.map((probe) => publishCounters(device, probe, 151, 200)))
    const items = await tail.waitFor((seen) => {
      const counters = countersByEntity(seen)
      return PROBES.every((probe) => (counters.get(probe)?.length ?? 0) >= 200)
    }, 60_000)

    const counters = countersByEntity(items)
    for (const probe of PROBES) expect(counters.get(probe)).toEqual(range(1, 200))
    expectOrderedPerEntity(items)
    // The simulated line's own items come through as well: its registration, then its measurements.
    const line = await tail.waitFor(
      (seen) => seen.some((i) => i.entity === 'device/filler//' && i.kind === 'measurements'),
      20_000,
    )
    const filler = line.filter((i) => i.entity === 'device/filler//')
    expect(filler[0]?.kind).toBe('entity')
    expectOrderedPerEntity(line)
    const after = await waitForStatus(core, (s) => s.state === 'connected' && s.backlog.items === 0)
    expect(after.sent.values).toBeGreaterThanOrEqual(600)
    expect(after.dropped).toEqual({ items: 0, values: 0 })
  }, 120_000)

  it('loses nothing the core acknowledged when it is killed with SIGKILL mid-sync', async () => {
    cloud = await startMosquitto()
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    const dataDir = tempDir()
    const syncArgs = ['--sync-url', cloud.url, '--site-id', SITE]
    const first = await processes.serve(dataDir, { args: syncArgs })
    await waitForStatus(first, (s) => s.state === 'connected')

    const mqtt = await import('mqtt')
    const acknowledged = new Map<string, number[]>(PROBES.map((p) => [p, []]))
    const publisher = await mqtt.connectAsync(first.ready.mqtt, { reconnectPeriod: 0 })
    await registerChildren(publisher, PROBES)
    // Publish without waiting, so commands are in flight when the core dies; note what was PUBACKed.
    let killed = false
    for (const probe of PROBES) {
      void (async () => {
        for (let n = 1; n <= 2000 && !killed; n++) {
          try {
            await publisher.publishAsync(`te/${probe}/m/counter`, JSON.stringify({ n }), { qos: 1 })
            if (!killed) acknowledged.get(probe)?.push(n)
          } catch {
            return
          }
        }
      })()
    }
    await tail.waitFor((seen) => (countersByEntity(seen).get(PROBES[0] as string)?.length ?? 0) > 100, 30_000)
    await kill9(first)
    // No PUBACK can come from a dead core; publishes still pending never counted.
    killed = true
    publisher.end(true)

    // The same data dir, no sync options: the configuration and the outbox were kept.
    const second = await processes.serve(dataDir)
    const after = await mqtt.connectAsync(second.ready.mqtt, { reconnectPeriod: 0 })
    // Fresh numbers: one the core stored but never acknowledged may still arrive, once.
    for (const probe of PROBES) {
      await publishCounters(after, probe, 10_001, 10_010)
      acknowledged.get(probe)?.push(...range(10_001, 10_010))
    }
    after.end(true)

    const items = await tail.waitFor((seen) => {
      const counters = countersByEntity(seen)
      return PROBES.every((probe) => {
        const got = new Set(counters.get(probe))
        return (acknowledged.get(probe) ?? []).every((n) => got.has(n))
      })
    }, 60_000)
    const counters = countersByEntity(items)
    for (const probe of PROBES) {
      const got = counters.get(probe) ?? []
      // Each value once, ascending: nothing the core acknowledged is missing, nothing doubled.
      expect(got).toEqual([...got].sort((a, b) => a - b))
      expect(new Set(got).size).toBe(got.length)
      expect(got).toEqual(expect.arrayContaining(acknowledged.get(probe) ?? []))
    }
    expectOrderedPerEntity(items)
    expect(new Set(items.map((i) => i.stream)).size).toBe(1)
    await waitForStatus(second, (s) => s.backlog.items === 0)
  }, 120_000)

  it('captures every value it acknowledged across restarts and kill -9, also at each start and stop', async () => {
    cloud = await startMosquitto()
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    const dataDir = tempDir()
    const port = await freePort()
    const args = ['--sync-url', cloud.url, '--site-id', SITE, '--mqtt-port', String(port)]
    const mqtt = await import('mqtt')
    const probe = PROBES[0] as string
    // A device that publishes all the time and reconnects at once: its messages arrive while each
    // core starts and while it stops, the windows where nothing may go uncaptured.
    const device = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 20, connectTimeout: 1000 })
    const acknowledged = new Set<number>()
    let running = true
    const loop = (async () => {
      const inFlight = new Set<Promise<void>>()
      for (let n = 1; running; n++) {
        const p: Promise<void> = device
          .publishAsync(`te/${probe}/m/counter`, JSON.stringify({ n }), { qos: 1 })
          .then(() => {
            acknowledged.add(n)
          })
          .catch(() => {})
          .finally(() => inFlight.delete(p))
        inFlight.add(p)
        if (inFlight.size >= 10) await Promise.race(inFlight)
        // Slow enough for a steady stream, not a flood the restarts have to drain.
        if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()

    for (let cycle = 0; cycle < 6; cycle++) {
      const core = await processes.serve(dataDir, {
        args: cycle === 0 ? args : ['--mqtt-port', String(port)],
      })
      const before = acknowledged.size
      await vi.waitFor(() => expect(acknowledged.size).toBeGreaterThan(before + 300), { timeout: 20_000 })
      if (cycle % 2 === 0) {
        core.child.kill('SIGTERM')
        expect((await core.exited).code).toBe(0)
      } else await kill9(core)
    }
    const last = await processes.serve(dataDir, { args: ['--mqtt-port', String(port)] })
    const before = acknowledged.size
    await vi.waitFor(() => expect(acknowledged.size).toBeGreaterThan(before + 100), { timeout: 20_000 })
    running = false
    await loop
    device.end(true)

    // On a timeout the assertion below says what is missing, rather than the tail every item.
    await tail
      .waitFor((seen) => {
        const got = new Set(countersByEntity(seen).get(probe))
        return [...acknowledged].every((n) => got.has(n))
      }, 60_000)
      .catch(() => {})
    const got = countersByEntity(tail.items).get(probe) ?? []
    const missing = [...acknowledged].filter((n) => !got.includes(n))
    expect(
      missing,
      `${missing.length} of ${acknowledged.size} acknowledged values never reached the cloud`,
    ).toEqual([])
    await waitForStatus(last, (s) => s.backlog.items === 0)
  }, 180_000)
})
