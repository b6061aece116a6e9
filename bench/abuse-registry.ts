// (n4, n5) Floods of the entity registry: data on ever new default-scheme ids (each auto-registers
// a child device), and registrations whose parent never comes (each waits for it). Both against
// `edgetwin serve` with its default bounds; the held registrations also with the bound raised to
// their number, which shows what holding each one costs as more wait.

import type { StatusView } from '../src-main/core/api/types'
import { type FloodMessage, orphanRegistrations, publishAll } from '../test/helpers/flood'
import {
  closeClients,
  connectClients,
  type HealthSummary,
  idleRss,
  request,
  watchHealth,
} from './abuse-probes'
import { Api } from './api'
import { cpuSecondsOf, memoryOf, removeDir, spawnCore, tempDir } from './processes'

export interface FloodConfig {
  /** Distinct `te/device/xN///m/env` ids, each published once. */
  ids: number
  clients: number
  /** QoS 1 messages each client keeps unacknowledged. */
  window: number
}

export interface FloodResult {
  sent: number
  /** Entities in the registry before and after (the main device and its service before). */
  entitiesBefore: number
  entitiesAfter: number
  /** Messages refused (the status's ingest counter). */
  rejected: number
  seconds: number
  idleRss: number
  peakRss: number
  health: HealthSummary
  /** The first page of `GET /api/v1/entities`, as the UI asks for it. */
  page: { answer: number | string; ms: number; bytes: number }
}

export async function entityFlood(config: FloodConfig): Promise<FloodResult> {
  const dataDir = tempDir('abuse-flood')
  const core = await spawnCore(dataDir)
  try {
    const api = new Api(core.ready)
    const idle = await idleRss(core.pid)
    const before = await api.get<StatusView>('/api/v1/status')
    const clients = await connectClients(core.ready.mqtt, config.clients, 'bench-flood')
    const messages: FloodMessage[] = Array.from({ length: config.ids }, (_, k) => ({
      topic: `te/device/x${k}///m/env`,
      payload: '{"v":1}',
    }))
    const stopHealth = watchHealth(core.ready, 100)
    const started = performance.now()
    await publishAll(clients, messages, config.window)
    const seconds = (performance.now() - started) / 1000
    const health = await stopHealth()
    await closeClients(clients)
    const after = await api.get<StatusView>('/api/v1/status')
    const page = await request(core.ready, '/api/v1/entities', { token: true })
    return {
      sent: config.ids,
      entitiesBefore: before.entities,
      entitiesAfter: after.entities,
      rejected: after.ingest.rejected - before.ingest.rejected,
      seconds,
      idleRss: idle,
      peakRss: memoryOf(core.pid).peak,
      health,
      page,
    }
  } finally {
    await core.stop()
    removeDir(dataDir)
  }
}

export interface HeldConfig {
  registrations: number
  /** Core CPU per message is taken over the first and over the last this many. */
  batch: number
  clients: number
  window: number
}

export interface HeldRun {
  /** `--max-held-registrations`, or undefined for the default. */
  bound?: number
  held: number
  rejected: number
  /** Core CPU per message over the first and the last `batch` messages, in µs. */
  firstUs: number
  lastUs: number
  seconds: number
  idleRss: number
  peakRss: number
}

export interface HeldResult {
  defaults: HeldRun
  raised: HeldRun
}

async function heldRun(config: HeldConfig, bound?: number): Promise<HeldRun> {
  const dataDir = tempDir('abuse-held')
  const core = await spawnCore(dataDir, {
    args: bound === undefined ? [] : ['--max-held-registrations', String(bound)],
  })
  try {
    const api = new Api(core.ready)
    const idle = await idleRss(core.pid)
    const before = await api.get<StatusView>('/api/v1/status')
    const clients = await connectClients(core.ready.mqtt, config.clients, 'bench-held')
    const started = performance.now()
    const perMessageUs = async (from: number, count: number) => {
      const cpu = cpuSecondsOf(core.pid)
      await publishAll(clients, orphanRegistrations(count, from), config.window)
      return ((cpuSecondsOf(core.pid) - cpu) / count) * 1e6
    }
    const { registrations: total, batch } = config
    const firstUs = await perMessageUs(0, batch)
    await publishAll(clients, orphanRegistrations(total - 2 * batch, batch), config.window)
    const lastUs = await perMessageUs(total - batch, batch)
    const seconds = (performance.now() - started) / 1000
    await closeClients(clients)
    const after = await api.get<StatusView>('/api/v1/status')
    return {
      bound,
      held: after.pendingRegistrationCount,
      rejected: after.ingest.rejected - before.ingest.rejected,
      firstUs,
      lastUs,
      seconds,
      idleRss: idle,
      peakRss: memoryOf(core.pid).peak,
    }
  } finally {
    await core.stop()
    removeDir(dataDir)
  }
}

/** (n5) The default bound first, then the bound raised so every registration is held. */
export async function heldRegistrations(config: HeldConfig): Promise<HeldResult> {
  const defaults = await heldRun(config)
  const raised = await heldRun(config, config.registrations)
  return { defaults, raised }
}
