import { connectAsync } from 'mqtt'
import { formatTopic } from '../topics'
import { LINE_SERVICES } from './topology'

/** How long a live line has to answer the health check, in ms. */
const ANSWER_MS = 1500
/** How long the retained health may trail the acknowledgements, in ms (none at all: no line ran here). */
const RETAINED_MS = 200

/**
 * Whether another simulator's filling line is live on this broker. The line's entities have fixed
 * ids, so a second line would take them over, and when it stopped its services' `down` (and Last
 * Wills) would mark the first line's services down while that line keeps running. A line is live
 * when its line-controller service has a retained `up` and answers a health check (reference §2.7)
 * with a fresh `up`: a retained `up` alone can be left by a broker that stopped without firing the
 * Last Will.
 */
export async function lineIsLiveElsewhere(url: string, root: string, clientId: string): Promise<boolean> {
  const service = LINE_SERVICES[0]?.id ?? 'device/main/service/line-controller'
  const health = formatTopic(service, { kind: 'health' }, root)
  const check = formatTopic(service, { kind: 'command', operation: 'health', cmdId: 'check' }, root)
  const client = await connectAsync(url, { clientId, reconnectPeriod: 0 }, false)
  try {
    let retained: boolean | undefined
    let sawRetained: () => void = () => {}
    let answered: () => void = () => {}
    const retainedArrived = new Promise<void>((resolve) => (sawRetained = resolve))
    const answer = new Promise<void>((resolve) => (answered = resolve))
    client.on('message', (_topic, payload, packet) => {
      // A live message on an established subscription has RETAIN 0 [MQTT-3.3.1-9].
      if (packet.retain) {
        retained = isUp(payload)
        sawRetained()
      } else if (isUp(payload)) answered()
    })
    await client.subscribeAsync(health, { qos: 1 })
    await client.publishAsync(check, '{}', { qos: 1 })
    if (retained === undefined) await within(retainedArrived, RETAINED_MS)
    if (!retained) return false
    return await within(answer, ANSWER_MS)
  } finally {
    await client.endAsync()
  }
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  const settled = await Promise.race([promise.then(() => true), timeout])
  clearTimeout(timer)
  return settled
}

function isUp(payload: Buffer): boolean {
  try {
    return (JSON.parse(payload.toString()) as { status?: unknown }).status === 'up'
  } catch {
    return false
  }
}
