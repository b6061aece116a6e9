import { connectAsync, type MqttClient } from 'mqtt'

export type Payload = Record<string, unknown>

export interface Message {
  topic: string
  payload: string
  retain: boolean
}

const TERMINAL = new Set(['successful', 'failed'])

/**
 * A thin-edge.io requester on a real mqtt.js client (reference §3.1): publishes retained `init`
 * commands, records everything under `te/#`, and clears terminal states as a requester must.
 */
export class Requester {
  readonly messages: Message[] = []
  private waiters: Array<{ test: (m: Message) => boolean; resolve: (m: Message) => void }> = []

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload: payload.toString(), retain: packet.retain }
      this.messages.push(message)
      for (const waiter of [...this.waiters]) {
        if (!waiter.test(message)) continue
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve(message)
      }
    })
  }

  static async connect(url: string): Promise<Requester> {
    const requester = new Requester(await connectAsync(url, { reconnectPeriod: 0 }))
    await requester.client.subscribeAsync('te/#', { qos: 1 })
    return requester
  }

  /** Publishes `{"status":"init", ...fields}` retained on `te/device/<device>///cmd/<op>/<cmdId>`. */
  async request(device: string, operation: string, cmdId: string, fields: Payload = {}): Promise<string> {
    const topic = `te/device/${device}///cmd/${operation}/${cmdId}`
    await this.publish(topic, JSON.stringify({ status: 'init', ...fields }))
    return topic
  }

  publish(topic: string, payload: string, retain = true): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos: 1, retain })
  }

  clear(topic: string): Promise<unknown> {
    return this.publish(topic, '')
  }

  /** Every non-empty state published on a command topic, parsed, in order. */
  states(topic: string): Payload[] {
    return this.json(topic).filter((p): p is Payload => p !== '')
  }

  statuses(topic: string): string[] {
    return this.states(topic).map((s) => String(s.status))
  }

  json(topic: string): Array<Payload | ''> {
    return this.on(topic).map((m) => (m.payload === '' ? '' : (JSON.parse(m.payload) as Payload)))
  }

  on(topic: string): Message[] {
    return this.messages.filter((m) => m.topic === topic)
  }

  /** Index of the first message at or after `from` that passes `test`, or -1. */
  indexOf(test: (m: Message) => boolean, from = 0): number {
    return this.messages.findIndex((m, i) => i >= from && test(m))
  }

  /** Resolves with the first message (received from index `from` on, or coming) that passes `test`. */
  next(test: (m: Message) => boolean, timeoutMs = 10_000, from = 0): Promise<Message> {
    const found = this.messages.find((m, i) => i >= from && test(m))
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`no matching message within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (m: Message) => {
        clearTimeout(timer)
        resolve(m)
      }
      this.waiters.push({ test, resolve: done })
    })
  }

  /** The command's terminal state (`successful` or `failed`), received from message index `from` on. */
  async outcome(topic: string, from = 0, timeoutMs = 10_000): Promise<Payload> {
    const terminal = (m: Message) => {
      if (m.topic !== topic || m.payload === '') return false
      return TERMINAL.has(String((JSON.parse(m.payload) as Payload).status))
    }
    const message = await this.next(terminal, timeoutMs, from)
    return JSON.parse(message.payload) as Payload
  }

  /** Requests, awaits the terminal state, clears the topic: one operation as a requester runs it. */
  async run(device: string, operation: string, cmdId: string, fields: Payload = {}): Promise<Payload> {
    const topic = await this.request(device, operation, cmdId, fields)
    const result = await this.outcome(topic)
    await this.clear(topic)
    return result
  }

  close(): Promise<void> {
    return this.client.endAsync(true)
  }
}
