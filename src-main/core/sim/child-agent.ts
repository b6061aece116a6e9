import { formatTopic, parseTopic, TopicError } from '../topics'
import type { AgentProfile } from './agent-profiles'
import { DeviceConfig } from './device-config'
import { DeviceLog, type LogLevel } from './device-log'
import { SoftwareInventory } from './device-software'
import type { MeasurementValues, TickOutput } from './line-output'
import type { LineSettings } from './line-settings'
import type { SimLogger, SimStats } from './logger'
import { OPERATIONS } from './operations'
import type { Equipment, Fault, Firmware, Operation, Payload } from './operations/command'
import { type CommandHost, CommandRun } from './operations/command-run'
import { createPrng, type Prng } from './prng'
import { ServiceClient } from './service-client'
import type { JsonValue, SimDevice } from './topology'

/** What the rest of the line does when a child agent acts on its device. */
export interface ChildAgentHost {
  /** The device powers off or on: its data and its services stop or resume. */
  setOnline(device: string, online: boolean): void
  /** A retained twin fragment of the device changes (published by the line, which owns the twin). */
  setTwin(device: string, key: string, value: JsonValue): void
  configure(settings: Partial<LineSettings>): void
}

export interface ChildAgentOptions {
  url: string
  root: string
  clientId: string
  device: SimDevice
  profile: AgentProfile
  seed: number
  tickMs: number
  /** Probability (0..1) that an operation meets one of its realistic faults. */
  faultRate: number
  pid: number
  logger: SimLogger
  stats: SimStats
  host: ChildAgentHost
}

/** Reference §2.5: tedge-agent announces itself in its device's twin. */
const AGENT_TWIN = { name: 'thin-edge.io', url: 'https://thin-edge.io', version: '1.6.1' }

/** The intermediate states this agent publishes; a retained one at start-up is a command it lost. */
const OWN_STATES = new Set([
  'executing',
  'download',
  'set',
  'install',
  'reboot',
  'verify',
  'commit',
  'rollback',
])

function isObject(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** FNV-1a, so each device draws its faults from its own seeded sequence. */
function hash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

function initialFirmware(device: SimDevice): Firmware {
  const twin = device.twin.firmware
  if (isObject(twin) && typeof twin.name === 'string' && typeof twin.version === 'string') {
    return { name: twin.name, version: twin.version }
  }
  return { name: 'firmware', version: '1.0.0' }
}

/**
 * The tedge-agent of one simulated child device (reference §1.7, §5): service
 * `device/<child>/service/tedge-agent` with health and Last Will (the device's default `@health`),
 * retained capabilities, and the device's operations driven through `init → executing → … →
 * successful | failed` on retained command topics.
 */
export class ChildAgent {
  readonly equipment: Equipment
  private readonly service: ServiceClient
  private readonly operations: ReadonlyMap<string, Operation>
  private readonly active = new Map<string, CommandRun>()
  /** Commands this agent finished; their terminal state stays retained until the requester clears it. */
  private readonly finished = new Set<string>()
  /** Requests that arrived while the device was down, run once it is back. */
  private deferred: Array<{ topic: string; payload: Buffer }> = []
  private readonly latest = new Map<string, MeasurementValues>()
  private online = true
  private abort = new AbortController()
  private readonly rng: Prng

  constructor(private readonly options: ChildAgentOptions) {
    const { device, profile, root } = options
    this.equipment = {
      id: device.id,
      name: device.name,
      profile,
      firmware: initialFirmware(device),
      config: new DeviceConfig(profile.config),
      software: new SoftwareInventory(profile.software),
      log: new DeviceLog(),
    }
    this.operations = new Map(
      OPERATIONS.filter((op) => op.capability(profile) !== undefined).map((op) => [op.name, op]),
    )
    this.rng = createPrng(options.seed ^ hash(device.id))
    const [, name] = device.id.split('/')
    this.service = new ServiceClient({
      url: options.url,
      root,
      clientId: options.clientId,
      service: { id: `device/${name}/service/tedge-agent`, parent: device.id, name: 'tedge-agent' },
      pid: options.pid,
      logger: options.logger,
      stats: options.stats,
      subscriptions: [formatTopic(device.id, { kind: 'command', operation: '+', cmdId: '+' }, root)],
      onMessage: (topic, payload, retained) => this.receive(topic, payload, retained),
      onAnnounce: () => this.announce(),
    })
  }

  async start(): Promise<void> {
    this.abort = new AbortController()
    this.online = true
    this.bootLog()
    await this.service.start()
    // The device's settings are in effect from the start (the factory files match the line's defaults).
    for (const type of this.equipment.config.types) this.applySettings(type)
  }

  async stop(): Promise<void> {
    this.abort.abort()
    this.active.clear()
    this.deferred = []
    await this.service.stop()
  }

  /** Feeds the device's log from what the line did this tick: its events, alarms and status lines. */
  observe(out: TickOutput): void {
    if (!this.online) return
    const id = this.equipment.id
    for (const m of out.measurements) if (m.entity === id) this.latest.set(m.type, m.values)
    for (const e of out.events) if (e.entity === id) this.log('INFO', e.text)
    for (const a of out.alarms) {
      if (a.entity !== id) continue
      if (!a.severity) this.log('INFO', `Alarm ${a.type} cleared: ${a.text}`)
      else
        this.log(
          a.severity === 'major' || a.severity === 'critical' ? 'ERROR' : 'WARN',
          `Alarm ${a.type} (${a.severity}): ${a.text}`,
        )
    }
    for (const spec of this.equipment.profile.logs) {
      const periodic = spec.periodic
      if (!periodic || out.tick === 0 || out.tick % periodic.every !== 0) continue
      const values = periodic.measurement ? this.latest.get(periodic.measurement) : undefined
      const text = periodic.text.replace(/\{(\w+)\}/g, (_, key: string) => {
        const v = values?.[key]
        return typeof v === 'number' ? String(v) : '?'
      })
      this.equipment.log.add(spec.type, 'INFO', text)
    }
  }

  /** Capabilities (reference §3.1) and the agent twin, on every (re)connect: all retained. */
  private async announce(): Promise<void> {
    const { device, profile, root } = this.options
    const pending = [...this.operations.values()].map((op) =>
      this.service.publish(
        formatTopic(device.id, { kind: 'capability', operation: op.name }, root),
        JSON.stringify(op.capability(profile)),
      ),
    )
    const twin: Record<string, unknown> = { agent: AGENT_TWIN }
    // The parameters in effect that take desired properties, under the same names (docs/sync-protocol.md).
    for (const file of profile.config) {
      const values = this.equipment.config.values(file.type)
      for (const [key, spec] of Object.entries(file.keys)) if (spec.desired) twin[key] = values[key]
    }
    for (const [key, value] of Object.entries(twin)) {
      pending.push(
        this.service.publish(formatTopic(device.id, { kind: 'twin', key }, root), JSON.stringify(value)),
      )
    }
    await Promise.all(pending)
  }

  private receive(topic: string, payload: Buffer, retained: boolean): void {
    let parsed: ReturnType<typeof parseTopic>
    try {
      parsed = parseTopic(topic, this.options.root)
    } catch (error) {
      if (error instanceof TopicError) return
      throw error
    }
    if (parsed?.entity !== this.equipment.id || parsed.channel.kind !== 'command') return
    const { operation, cmdId } = parsed.channel
    const op = this.operations.get(operation)
    // Reference §3.1: an operation this agent does not support is ignored; another component may own it.
    if (!op) return
    if (payload.length === 0) {
      this.forget(topic)
      return
    }

    let request: unknown
    try {
      request = JSON.parse(payload.toString())
    } catch {
      this.options.logger.warn({ topic }, 'simulated child agent: command payload is not JSON, ignored')
      return
    }
    if (!isObject(request)) {
      this.options.logger.warn({ topic }, 'simulated child agent: command payload is not an object, ignored')
      return
    }
    // Only `init` starts a command; other states are our own echoes or the requester's to clear.
    if (request.status !== 'init') {
      if (retained) this.recover(topic, op, request)
      return
    }
    // A second init on a command still running, or one already done and not yet cleared: ignored.
    if (this.active.has(topic) || this.finished.has(topic)) return
    if (!this.online) {
      if (!this.deferred.some((d) => d.topic === topic)) this.deferred.push({ topic, payload })
      return
    }
    this.begin(topic, cmdId, op, request)
  }

  /** The requester cleared the command (empty retained payload): forget it, abort nothing. */
  private forget(topic: string): void {
    this.active.get(topic)?.clear()
    this.active.delete(topic)
    this.finished.delete(topic)
    this.deferred = this.deferred.filter((d) => d.topic !== topic)
  }

  /**
   * A retained intermediate state this agent does not know: a command a previous run of the
   * simulator left half done. Like tedge-agent after a restart, finish it instead of leaving it hanging.
   */
  private recover(topic: string, op: Operation, request: Payload): void {
    if (this.active.has(topic) || this.finished.has(topic)) return
    if (typeof request.status !== 'string' || !OWN_STATES.has(request.status)) return
    const reason =
      op.name === 'restart'
        ? 'The agent has been restarted but not the device'
        : `The agent was restarted while the operation was in state "${request.status}"`
    this.finished.add(topic)
    void this.service.publish(topic, JSON.stringify({ ...request, status: 'failed', reason }))
  }

  private begin(topic: string, cmdId: string, op: Operation, request: Payload): void {
    const run = new CommandRun(topic, cmdId, request, op, this.chooseFault(op), this.equipment, this.host())
    this.active.set(topic, run)
    void run.run().finally(() => {
      if (this.active.get(topic) !== run) return
      this.active.delete(topic)
      this.finished.add(topic)
    })
  }

  /** With probability `faultRate`, one of the operation's faults, drawn from the seeded sequence. */
  private chooseFault(op: Operation): Fault | undefined {
    const { faultRate } = this.options
    if (faultRate <= 0 || op.faults.length === 0 || !this.rng.chance(faultRate)) return undefined
    return op.faults[this.rng.int(0, op.faults.length - 1)]
  }

  private host(): CommandHost {
    const { tickMs, logger, host, device } = this.options
    return {
      tickMs,
      logger,
      signal: this.abort.signal,
      publish: (topic, payload) => this.service.publish(topic, payload),
      power: (on) => this.power(on),
      setTwin: (key, value) => host.setTwin(device.id, key, value),
      configure: (settings) => host.configure(settings),
    }
  }

  private async power(on: boolean): Promise<void> {
    if (on === this.online) return
    const { host, device } = this.options
    this.online = on
    if (!on) {
      host.setOnline(device.id, false)
      await this.service.setHealth('down')
      return
    }
    this.bootLog()
    await this.service.setHealth('up')
    host.setOnline(device.id, true)
    const pending = this.deferred
    this.deferred = []
    for (const { topic, payload } of pending) this.receive(topic, payload, false)
  }

  private applySettings(type: string): void {
    const spec = this.equipment.config.spec(type)
    const values = this.equipment.config.values(type)
    const settings: Partial<LineSettings> = {}
    for (const [key, keySpec] of Object.entries(spec?.keys ?? {})) {
      const value = values[key]
      if (keySpec.setting && typeof value === 'number') settings[keySpec.setting] = value
    }
    if (Object.keys(settings).length > 0) this.options.host.configure(settings)
  }

  private bootLog(): void {
    const { firmware, profile } = this.equipment
    const serial = this.options.device.twin.serialNumber
    this.log(
      'INFO',
      `Boot complete: ${firmware.name} ${firmware.version}, serial ${String(serial ?? 'unknown')}`,
    )
    for (const spec of profile.logs.slice(1)) this.equipment.log.add(spec.type, 'INFO', `${spec.path} opened`)
    this.log(
      'INFO',
      `tedge-agent ${AGENT_TWIN.version} up, operations: ${[...this.operations.keys()].join(', ')}`,
    )
  }

  private log(level: LogLevel, text: string): void {
    const type = this.equipment.profile.logs[0]?.type
    if (type) this.equipment.log.add(type, level, text)
  }
}
