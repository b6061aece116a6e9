import { connectAsync, type MqttClient } from 'mqtt'
import { type Channel, formatTopic, parseTopic } from '../topics'
import { AGENT_PROFILES } from './agent-profiles'
import { ChildAgent, type ChildAgentHost } from './child-agent'
import { LineModel } from './line-model'
import type { AlarmOut, EventOut, MeasurementOut } from './line-output'
import type { LineSettings } from './line-settings'
import type { SimLogger, SimStats } from './logger'
import { createPrng } from './prng'
import { ServiceClient } from './service-client'
import { type JsonValue, LINE_ALARM_TYPES, LINE_DEVICES, LINE_SERVICES } from './topology'

export interface LineConnectorOptions {
  url: string
  root: string
  seed: number
  tickMs: number
  /** Probability (0..1) that an operation on a child device meets a realistic fault. */
  faultRate: number
  /** Prefix of every MQTT client id, unique per simulator instance. */
  clientPrefix: string
  logger: SimLogger
  stats: SimStats
}

// Reference §1.4 / §2: registrations, twin, units, alarms and health are retained state (QoS 1);
// measurements and events are a stream (QoS 0).
const RETAINED = { qos: 1, retain: true } as const
const STREAM = { qos: 0, retain: false } as const

/** A device and everything below it: a rebooting filler takes its valve bank's data with it. */
function subtree(root: string): Set<string> {
  const ids = new Set([root])
  for (const device of LINE_DEVICES) if (device.parent && ids.has(device.parent)) ids.add(device.id)
  return ids
}

/**
 * The filling line as a thin-edge.io connector: one client publishes the devices' data, one client
 * per service carries that service's health and Last Will, and a tedge-agent per operable child
 * device runs that device's operations. It speaks only MQTT (and HTTP for file transfers).
 */
export class LineConnector implements ChildAgentHost {
  private client: MqttClient | undefined
  private services: ServiceClient[] = []
  private agents: ChildAgent[] = []
  private timer: NodeJS.Timeout | undefined
  private model: LineModel | undefined
  /** Last retained payload per alarm topic ('' = cleared), re-published after a reconnect. */
  private readonly alarmState = new Map<string, string>()
  /** Twin fragments changed by operations (e.g. `firmware`), which win over the topology's. */
  private readonly twinState = new Map<string, Record<string, JsonValue>>()
  /** Devices switched off (rebooting) with their subtrees: they publish nothing. */
  private readonly down = new Map<string, Set<string>>()

  constructor(private readonly options: LineConnectorOptions) {}

  async start(): Promise<void> {
    const { url, seed, tickMs, clientPrefix, logger } = this.options
    this.model = new LineModel(seed)
    this.alarmState.clear()
    this.twinState.clear()
    this.down.clear()
    // On (re)start every alarm is re-evaluated from scratch, so stale retained alarms are cleared.
    for (const { entity, type } of LINE_ALARM_TYPES) {
      this.alarmState.set(this.topic(entity, { kind: 'alarm', type }), '')
    }

    const client = await connectAsync(
      url,
      { clientId: `${clientPrefix}-line`, reconnectPeriod: 1000, queueQoSZero: false },
      false,
    )
    this.client = client
    client.on('error', (err) => logger.warn({ err }, 'simulated line MQTT error'))
    client.on('connect', () => void this.announce())
    await this.announce()

    // Pids only make the health messages believable; they come from the seed like everything else.
    const pids = createPrng(seed ^ 0x5eed)
    this.services = LINE_SERVICES.map(
      (service) =>
        new ServiceClient({
          url,
          root: this.options.root,
          clientId: `${clientPrefix}-${service.name}`,
          service,
          pid: pids.int(300, 32000),
          logger,
          stats: this.options.stats,
        }),
    )
    // allSettled: a failed start must not leave the other services connecting behind stop()'s back.
    const results = await Promise.allSettled(this.services.map((s) => s.start()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason

    this.agents = AGENT_PROFILES.flatMap((profile) => {
      const device = LINE_DEVICES.find((d) => d.id === profile.device)
      if (!device) return []
      const [, name] = device.id.split('/')
      return new ChildAgent({
        url,
        root: this.options.root,
        clientId: `${clientPrefix}-${name}-tedge-agent`,
        device,
        profile,
        seed,
        tickMs,
        faultRate: this.options.faultRate,
        pid: pids.int(300, 32000),
        logger,
        stats: this.options.stats,
        host: this,
      })
    })
    const agentResults = await Promise.allSettled(this.agents.map((a) => a.start()))
    const agentFailed = agentResults.find((r) => r.status === 'rejected')
    if (agentFailed) throw agentFailed.reason
    this.timer = setInterval(() => this.tick(), tickMs)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    const agents = this.agents
    this.agents = []
    await Promise.allSettled(agents.map((a) => a.stop()))
    const services = this.services
    this.services = []
    await Promise.allSettled(services.map((s) => s.stop()))
    const client = this.client
    this.client = undefined
    if (client) await client.endAsync(!client.connected)
  }

  /** Registrations (parents first), twin fragments, units and the current alarm state. */
  private async announce(): Promise<void> {
    const pending: Promise<void>[] = []
    for (const device of LINE_DEVICES) {
      const registration = device.parent
        ? { '@type': 'child-device', '@parent': device.parent, name: device.name, type: device.type }
        : { '@type': 'device', name: device.name, type: device.type }
      pending.push(
        this.publish(this.topic(device.id, { kind: 'registration' }), JSON.stringify(registration), RETAINED),
      )
    }
    for (const device of LINE_DEVICES) {
      const twin = { ...device.twin, ...this.twinState.get(device.id) }
      for (const [key, value] of Object.entries(twin)) {
        pending.push(
          this.publish(this.topic(device.id, { kind: 'twin', key }), JSON.stringify(value), RETAINED),
        )
      }
      for (const [type, units] of Object.entries(device.units)) {
        const topic = this.topic(device.id, { kind: 'measurement-meta', type })
        pending.push(this.publish(topic, JSON.stringify(units), RETAINED))
      }
    }
    for (const [topic, payload] of this.alarmState) pending.push(this.publish(topic, payload, RETAINED))
    await Promise.all(pending)
  }

  private tick(): void {
    const model = this.model
    if (!model || !this.client?.connected) return
    const out = model.step()
    const time = new Date().toISOString()
    for (const m of out.measurements) if (this.isUp(m.entity)) this.publishMeasurement(m, time)
    for (const e of out.events) if (this.isUp(e.entity)) this.publishEvent(e, time)
    for (const a of out.alarms) this.publishAlarm(a, time)
    for (const agent of this.agents) agent.observe(out)
  }

  setOnline(device: string, online: boolean): void {
    if (online) this.down.delete(device)
    else this.down.set(device, subtree(device))
    const ids = subtree(device)
    for (const service of this.services) {
      if (ids.has(service.parent)) void service.setHealth(online ? 'up' : 'down')
    }
    const holding = AGENT_PROFILES.some((p) => p.holdsLine && this.down.has(p.device))
    this.model?.hold(holding)
    // Alarms kept changing while the device was off; it reports their current state when it is back.
    if (online) {
      for (const [topic, payload] of this.alarmState) {
        const entity = parseTopic(topic, this.options.root)?.entity
        if (entity && ids.has(entity)) void this.publish(topic, payload, RETAINED)
      }
    }
  }

  setTwin(device: string, key: string, value: JsonValue): void {
    const twin = this.twinState.get(device) ?? {}
    twin[key] = value
    this.twinState.set(device, twin)
    void this.publish(this.topic(device, { kind: 'twin', key }), JSON.stringify(value), RETAINED)
  }

  configure(settings: Partial<LineSettings>): void {
    this.model?.configure(settings)
  }

  private isUp(entity: string): boolean {
    for (const ids of this.down.values()) if (ids.has(entity)) return false
    return true
  }

  private publishMeasurement(m: MeasurementOut, time: string): void {
    const payload = m.timestamped ? { time, ...m.values } : m.values
    void this.publish(
      this.topic(m.entity, { kind: 'measurement', type: m.type }),
      JSON.stringify(payload),
      STREAM,
    )
  }

  private publishEvent(e: EventOut, time: string): void {
    const payload = { text: e.text, time, ...e.fragments }
    void this.publish(this.topic(e.entity, { kind: 'event', type: e.type }), JSON.stringify(payload), STREAM)
  }

  private publishAlarm(a: AlarmOut, time: string): void {
    const topic = this.topic(a.entity, { kind: 'alarm', type: a.type })
    // Reference §2.4: an empty retained message clears the alarm.
    const payload = a.severity ? JSON.stringify({ text: a.text, severity: a.severity, time }) : ''
    this.alarmState.set(topic, payload)
    if (this.isUp(a.entity)) void this.publish(topic, payload, RETAINED)
  }

  private async publish(
    topic: string,
    payload: string,
    opts: typeof RETAINED | typeof STREAM,
  ): Promise<void> {
    const client = this.client
    if (!client) return
    this.options.stats.published++
    try {
      await client.publishAsync(topic, payload, opts)
    } catch (err) {
      this.options.logger.warn({ err, topic }, 'simulated line could not publish')
    }
  }

  private topic(entity: string, channel: Channel): string {
    return formatTopic(entity, channel, this.options.root)
  }
}
