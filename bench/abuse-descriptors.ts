// (n9) More MQTT connections than the core has file descriptors: does HTTP still answer?
import mqtt, { type MqttClient } from 'mqtt'
import {
  type Answers,
  answers,
  closeClients,
  descriptorLimitOf,
  descriptorsOf,
  idleRss,
} from './abuse-probes'
import { removeDir, sleep, spawnCore, tempDir } from './processes'

export interface DescriptorsConfig {
  /** `ulimit -n` of the core. */
  ulimit: number
  connections: number
  connectTimeoutMs: number
}

export interface DescriptorsResult {
  connected: number
  failed: number
  /** The first connection error, e.g. a CONNACK refusal or a timeout. */
  firstFailure?: string
  /** Descriptors open in the core with every connection attempt made, and its limit (/proc/<pid>/limits). */
  descriptors: number
  limit: number
  /** With the connections open, and after they closed. */
  during: Answers
  after: Answers
  alive: boolean
}

export async function descriptorExhaustion(config: DescriptorsConfig): Promise<DescriptorsResult> {
  const dataDir = tempDir('abuse-fds')
  const core = await spawnCore(dataDir, {
    // `exec` keeps the pid: the limit applies to the core itself, as a service manager's LimitNOFILE.
    wrapper: ['bash', '-c', `ulimit -n ${config.ulimit} && exec "$@"`, 'bash'],
  })
  const clients: MqttClient[] = []
  try {
    await idleRss(core.pid, 500)
    const settled = await Promise.allSettled(
      Array.from({ length: config.connections }, (_, k) =>
        mqtt.connectAsync(core.ready.mqtt, {
          clientId: `bench-fd-${k}`,
          reconnectPeriod: 0,
          connectTimeout: config.connectTimeoutMs,
        }),
      ),
    )
    let firstFailure: string | undefined
    for (const s of settled) {
      if (s.status === 'fulfilled') clients.push(s.value)
      else firstFailure ??= String((s.reason as Error).message ?? s.reason)
    }
    const alive = () => core.process.exitCode === null && core.process.signalCode === null
    const descriptors = alive() ? descriptorsOf(core.pid) : 0
    const limit = alive() ? descriptorLimitOf(core.pid) : 0
    const during = await answers(core.ready)
    await closeClients(clients.splice(0))
    await sleep(500)
    const after = await answers(core.ready)
    return {
      connected: settled.filter((s) => s.status === 'fulfilled').length,
      failed: settled.filter((s) => s.status === 'rejected').length,
      firstFailure,
      descriptors,
      limit,
      during,
      after,
      alive: alive(),
    }
  } finally {
    await closeClients(clients)
    await core.stop()
    removeDir(dataDir)
  }
}
