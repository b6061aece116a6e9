import type { Aedes, AedesPublishPacket, Client, PublishPacket } from 'aedes'

type Done = (error?: Error) => void
/** aedes' publish as it is called internally: its types declare only publish(packet, callback). */
export type AedesPublish = (packet: PublishPacket, client: Client | null, done: Done) => void
type Deliver = (packet: AedesPublishPacket, done: () => void) => void

interface Emitter {
  emit(packet: AedesPublishPacket, done?: Done): unknown
}

/**
 * aedes' publish, run one message at a time until the message is handed to the subscribers.
 *
 * aedes numbers a message (`brokerCounter`) as publish() starts, then stores it as retained and queues it for
 * offline sessions before it emits it to the subscribers (aedes.js publishFuncsQoS). Those steps are promises,
 * one for a retained message and two for QoS > 0, so a QoS 0 or non-retained message published just after a
 * retained QoS 1 one was emitted first. A client drops a message numbered below one it already received from
 * the same broker (lib/client.js dedupe, meant for copies coming back through a cluster): the retained message
 * was lost to every subscriber of both topics, a subscriber that had just subscribed included, which got
 * neither the live copy nor, subscribed before it was stored, the retained one. Numbered and emitted in the
 * same order, no message is dropped. The steps before emit are SQLite writes and resolved promises: the next
 * publish waits microtasks, not I/O.
 */
export function publishInOrder(broker: Aedes): AedesPublish {
  const publish = broker.publish.bind(broker) as unknown as AedesPublish
  const mq = (broker as unknown as { mq: Emitter }).mq
  const emit = mq.emit.bind(mq)
  const waiting: Array<() => void> = []
  let release: (() => void) | undefined
  let draining = false

  // A loop, not recursion: a run of QoS 0 messages emits synchronously, each starting the next.
  const drain = () => {
    if (draining) return
    draining = true
    try {
      while (release === undefined && waiting.length > 0) waiting.shift()?.()
    } finally {
      draining = false
    }
  }

  // Every emit comes from the publish under way. What subscribers do synchronously (a publish of their own)
  // waits behind it.
  mq.emit = (packet, done) => {
    const emitted = release
    const result = emit(packet, done)
    emitted?.()
    return result
  }

  return (packet, client, done) => {
    waiting.push(() => {
      let pending = true
      const released = () => {
        if (!pending) return
        pending = false
        release = undefined
        drain()
      }
      release = released
      try {
        // A message that fails before its emit (its retained copy not stored) lets the next one go too.
        publish(packet, client, (error) => {
          released()
          done(error)
        })
      } catch (error) {
        released()
        throw error
      }
    })
    drain()
  }
}

/**
 * Holds what a resuming persistent session's subscriptions match until aedes has replayed the session's queue,
 * then delivers it in the order it was published, but for what the replay sent already.
 *
 * aedes restores a session's subscriptions before it writes CONNACK and replays the queued messages
 * (lib/handlers/connect.js: restoreSubs, ..., doConnack, emptyQueue). A message published meanwhile went out
 * live, even before CONNACK [MQTT-3.2.0-1], and as every QoS > 0 message is queued for the persistent
 * subscriptions it matches before it is emitted, the replay sent it again, after newer ones: a subscriber saw
 * `A`, `""`, `B`, `A` and kept the stale `A` [MQTT-4.6.0-6]. A held message whose queued copy the replay sent
 * (it has a packet identifier, or is acknowledged and gone) is not sent twice.
 */
export function holdUntilResumed(
  client: Client,
  unsent: (clientId: string, packet: AedesPublishPacket) => boolean,
) {
  const deliveries = client as unknown as Record<'deliver0' | 'deliverQoS', Deliver>
  const held: Array<() => void> = []
  for (const name of ['deliver0', 'deliverQoS'] as const) {
    const deliver = deliveries[name]
    deliveries[name] = (packet, done) => {
      if (client.connected) return deliver(packet, done)
      held.push(() => {
        if (name === 'deliverQoS' && packet.qos > 0 && !client.clean && !unsent(client.id, packet)) return
        deliver(packet, () => {})
      })
      // The subscriber's acknowledgement of the emit (mqemitter's concurrency slot, the publisher's PUBACK) does
      // not wait for the replay: a QoS > 0 message is in the session's queue already.
      setImmediate(done)
    }
  }
  // A connection that closes before it is resumed drops what it held: the queue keeps the QoS > 0 messages.
  client.once('connected', () => {
    for (const deliver of held.splice(0)) deliver()
  })
}
