// The abuse group (n1–n9): the attacks of the attack report of issue 10, sized to run in about three
// minutes on a 2-core machine, each against the real `edgetwin serve`. The report's own figures are
// the "before" of bench/abuse-report.ts.
import { type BypassResult, encodedPathBypass } from './abuse-auth'
import { type DescriptorsConfig, type DescriptorsResult, descriptorExhaustion } from './abuse-descriptors'
import { type DiskConfig, type DiskResult, diskFull } from './abuse-disk'
import { bigDownload, type DownloadConfig, type DownloadResult } from './abuse-download'
import { type FanOutConfig, type FanOutResult, webSocketFanOut } from './abuse-fan-out'
import { hugePackets, type PacketsConfig, type PacketsResult } from './abuse-packets'
import {
  entityFlood,
  type FloodConfig,
  type FloodResult,
  type HeldConfig,
  type HeldResult,
  heldRegistrations,
} from './abuse-registry'
import { type SyncRestartsConfig, type SyncRestartsResult, syncRestarts } from './abuse-sync'
import type { Phase } from './report'

export interface AbuseConfig {
  packets: PacketsConfig
  disk: DiskConfig
  sync: SyncRestartsConfig
  flood: FloodConfig
  held: HeldConfig
  download: DownloadConfig
  fanOut: FanOutConfig
  descriptors: DescriptorsConfig
}

const MB = 1_000_000

export const abuseConfig: AbuseConfig = {
  // The report's retained twin fragments and its three 200 MB packets (MQTT allows 256 MiB).
  packets: { twinBytes: [1, 10, 50, 100].map((n) => n * MB), hugeBytes: 200 * MB, answerTimeoutMs: 30_000 },
  // The report's volume and fill time; the reserve off, so the store itself fails.
  disk: { volumeMiB: 64, fullSeconds: 10, inFlight: 20, acks: 2_000, reserve: '0' },
  sync: { cycles: 20, acksPerCycle: 1_000, inFlight: 10, site: 'bench-abuse', drainTimeoutMs: 60_000 },
  flood: { ids: 100_000, clients: 8, window: 100 },
  held: { registrations: 80_000, batch: 10_000, clients: 4, window: 200 },
  download: { bytes: 1024 ** 3, timeoutMs: 120_000 },
  fanOut: {
    sockets: 200,
    publishers: 4,
    devicesPerPublisher: 200,
    inFlight: 20,
    warmupSeconds: 4,
    windowSeconds: 3,
    windows: 5,
  },
  descriptors: { ulimit: 256, connections: 300, connectTimeoutMs: 5_000 },
}

export interface AbusePhases {
  abuse: AbuseConfig
  n1: Phase<PacketsResult>
  n2: Phase<DiskResult>
  n3: Phase<SyncRestartsResult>
  n4: Phase<FloodResult>
  n5: Phase<HeldResult>
  n6: Phase<BypassResult>
  n7: Phase<DownloadResult>
  n8: Phase<FanOutResult>
  n9: Phase<DescriptorsResult>
}

export type AbuseId = Exclude<keyof AbusePhases, 'abuse'>
export const ABUSE_IDS: AbuseId[] = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']

type PhaseRunner = <T>(
  id: string,
  name: string,
  work: () => Promise<T>,
  quietWaitMs?: number,
) => Promise<Phase<T>>

/** Runs the group through run.ts's `phase` (which skips what `--only` leaves out). */
export async function abusePhases(phase: PhaseRunner, quietWaitMs: number): Promise<AbusePhases> {
  const c = abuseConfig
  return {
    abuse: c,
    n1: await phase('n1', 'huge MQTT packets', () => hugePackets(c.packets)),
    n2: await phase('n2', 'disk full under QoS 1 ingest', () => diskFull(c.disk)),
    n3: await phase('n3', 'cloud sync across restarts and kill -9', () => syncRestarts(c.sync)),
    n4: await phase('n4', 'entity flood', () => entityFlood(c.flood)),
    n5: await phase('n5', 'held registrations', () => heldRegistrations(c.held)),
    n6: await phase('n6', 'percent-encoded path without a token', encodedPathBypass),
    n7: await phase('n7', 'big module download', () => bigDownload(c.download)),
    // The only rate of the group: measured on a machine as quiet as it gets.
    n8: await phase('n8', 'WebSocket fan-out', () => webSocketFanOut(c.fanOut), quietWaitMs),
    n9: await phase('n9', 'descriptor exhaustion', () => descriptorExhaustion(c.descriptors)),
  }
}
