// Cloud sync as the API describes it, for the sync and desired UI's component tests: a status, a
// configuration, conflicts and desired properties, each with what a test changes given.
import type {
  ConflictView,
  DesiredPropertyView,
  DesiredView,
  SyncConfigView,
  SyncStatusView,
} from '../../src-renderer/lib/api'
import { FILLER, NOW } from './operation-fixture'

export const MB = 1024 * 1024

export function syncStatus(overrides: Partial<SyncStatusView> = {}): SyncStatusView {
  return {
    enabled: true,
    state: 'connected',
    url: 'mqtts://cloud.example.com:8883',
    siteId: 'plant-brno',
    since: NOW - 300_000,
    lastError: null,
    lastErrorCode: null,
    nextRetryAt: null,
    backlog: { items: 42, values: 840, bytes: 3 * MB, oldestTime: NOW - 30_000 },
    maxBacklogBytes: 512 * MB,
    sent: { items: 900, values: 18_000, batches: 120, bytes: MB, uncompressedBytes: 6.5 * MB },
    throughput: { itemsPerSecond: 5, valuesPerSecond: 100, bytesPerSecond: 10 * 1024 },
    lastSyncAt: NOW - 2000,
    dropped: { items: 0, values: 0 },
    received: { messages: 7, rejected: 0 },
    conflicts: { open: 0, total: 0 },
    ...overrides,
  }
}

export function syncConfig(overrides: Partial<SyncConfigView> = {}): SyncConfigView {
  return {
    enabled: true,
    url: 'mqtts://cloud.example.com:8883',
    siteId: 'plant-brno',
    username: 'edge-01',
    password: { set: true, hint: '12 characters' },
    clientCert: { set: false, hint: null },
    clientKey: { set: false, hint: null },
    ca: { set: true, hint: 'CN=Plant CA, O=Example (SHA-256 3f9a1c0d22be…)' },
    batchBytes: 128 * 1024,
    batchMs: 1000,
    maxBacklogBytes: 512 * MB,
    ...overrides,
  }
}

export function conflict(overrides: Partial<ConflictView> = {}): ConflictView {
  return {
    id: 1,
    entity: FILLER,
    property: 'setpoint',
    time: NOW - 60_000,
    policy: 'cloud-wins',
    edge: { value: 72.5, deleted: false, origin: 'edge:ui', hlc: 'h1', time: NOW - 120_000 },
    cloud: { value: 80, deleted: false, origin: 'cloud:alice', hlc: 'h2', time: NOW - 90_000 },
    winner: 'cloud',
    status: 'open',
    resolution: null,
    ...overrides,
  }
}

export function property(name: string, overrides: Partial<DesiredPropertyView> = {}): DesiredPropertyView {
  return {
    name,
    value: null,
    deleted: false,
    version: 1,
    hlc: 'h',
    origin: 'edge:ui',
    updatedAt: NOW - 600_000,
    policy: 'cloud-wins',
    ack: null,
    reported: null,
    state: 'pending',
    ...overrides,
  }
}

/** The filler's desired properties: one in every state, and one removed. */
export function desiredView(overrides: Partial<DesiredView> = {}): DesiredView {
  return {
    entity: FILLER,
    version: 6,
    syncedVersion: 5,
    supported: true,
    command: { cmdId: 'edgetwin-desired-7', status: 'executing' },
    accepts: null,
    properties: [
      property('setpoint', {
        value: 72.5,
        version: 3,
        state: 'applied',
        ack: { value: 72.5, ac: 200, av: 3, ad: null, time: NOW - 500_000 },
      }),
      property('mode', {
        value: 'auto',
        version: 5,
        origin: 'cloud:alice',
        state: 'in-progress',
        ack: { value: 'manual', ac: 202, av: 5, ad: 'switching over', time: NOW - 10_000 },
      }),
      property('recipe', { value: { id: 'R-12', speed: 120 }, version: 6, policy: 'edge-wins' }),
      property('limit', {
        value: 9000,
        version: 4,
        state: 'refused',
        ack: { value: 8000, ac: 400, av: 4, ad: 'above the motor rating', time: NOW - 400_000 },
      }),
      property('speed', {
        value: 120,
        version: 6,
        ack: { value: 100, ac: 200, av: 2, ad: null, time: NOW - 3_000_000 },
      }),
      property('legacy', { deleted: true, version: 2, origin: 'cloud:alice' }),
    ],
    ...overrides,
  }
}
