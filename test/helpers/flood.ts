import type { MqttClient } from 'mqtt'

export interface FloodMessage {
  topic: string
  payload: string
  retain?: boolean
}

/**
 * Publishes every message with QoS 1, spread over the clients (message i through client i mod n),
 * keeping at most `window` unacknowledged per client. Resolves once every PUBACK has come: the
 * embedded broker acknowledges only what the core has applied and committed.
 */
export async function publishAll(
  clients: MqttClient[],
  messages: FloodMessage[],
  window = 200,
): Promise<void> {
  await Promise.all(
    clients.map(async (client, c) => {
      const inFlight = new Set<Promise<unknown>>()
      for (let i = c; i < messages.length; i += clients.length) {
        const { topic, payload, retain = false } = messages[i] as FloodMessage
        const sent: Promise<unknown> = client
          .publishAsync(topic, payload, { qos: 1, retain })
          .finally(() => inFlight.delete(sent))
        inFlight.add(sent)
        if (inFlight.size >= window) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
    }),
  )
}

/** `{"@type":"child-device","@parent":"device/nopN//"}` on `te/device/hN//`: a parent that never comes. */
export function orphanRegistrations(count: number, from = 0): FloodMessage[] {
  return Array.from({ length: count }, (_, k) => ({
    topic: `te/device/h${from + k}//`,
    payload: JSON.stringify({ '@type': 'child-device', '@parent': `device/nop${from + k}//` }),
    retain: true,
  }))
}
