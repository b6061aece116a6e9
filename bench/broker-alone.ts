import mqtt from 'mqtt'
import { cpuSecondsOf, spawnPlainBroker } from './processes'
import { connectPublishers, payloadPool, publishFlat, VALUES_PER_MESSAGE } from './publishers'

export interface ThroughputConfig {
  publishers: number
  /** Messages per publisher in the timed phase. */
  messagesPerPublisher: number
  /** Messages per publisher sent (and fully delivered) before timing starts: JIT and registration warm-up. */
  warmupPerPublisher: number
}

export interface BrokerAloneResult {
  sent: number
  received: number
  seconds: number
  valuesPerSecond: number
  publishSeconds: number
  /** Cores the broker process and the bench process (publishers + subscriber) kept busy while timed. */
  serverCores: number
  benchCores: number
}

/**
 * (a) The same publishers against a plain aedes broker in a child process, counted by one `te/#`
 * subscriber that discards what it receives.
 */
export async function brokerAlone(config: ThroughputConfig): Promise<BrokerAloneResult> {
  const broker = await spawnPlainBroker()
  try {
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'bench-sink', reconnectPeriod: 0 })
    let received = 0
    let lastAt = 0
    let target = 0
    let reached: (() => void) | undefined
    subscriber.on('message', () => {
      received++
      lastAt = performance.now()
      if (received === target) reached?.()
    })
    await subscriber.subscribeAsync('te/#', { qos: 0 })
    const publishers = await connectPublishers(broker.url, config.publishers, 'bench-pub')
    try {
      const pools = publishers.clients.map((_, k) => payloadPool(k))
      const deliver = async (perClient: number, timeoutMs: number) => {
        target = received + perClient * config.publishers
        const all = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(new Error(`plain broker: ${received} of ${target} messages arrived in ${timeoutMs} ms`)),
            timeoutMs,
          )
          reached = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        const burst = await publishFlat(publishers, perClient, pools)
        await all
        return burst
      }
      await deliver(config.warmupPerPublisher, 60_000)
      const before = received
      const serverCpu = cpuSecondsOf(broker.pid)
      const benchCpu = process.cpuUsage()
      const burst = await deliver(config.messagesPerPublisher, 120_000)
      const got = received - before
      const seconds = (lastAt - burst.firstAt) / 1000
      const bench = process.cpuUsage(benchCpu)
      return {
        sent: burst.sent,
        received: got,
        seconds,
        valuesPerSecond: (got * VALUES_PER_MESSAGE) / seconds,
        publishSeconds: (burst.lastAt - burst.firstAt) / 1000,
        serverCores: (cpuSecondsOf(broker.pid) - serverCpu) / seconds,
        benchCores: (bench.user + bench.system) / 1e6 / seconds,
      }
    } finally {
      await publishers.close()
      await subscriber.endAsync(true)
    }
  } finally {
    await broker.stop()
  }
}
