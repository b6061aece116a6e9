import { setTimeout as delay } from 'node:timers/promises'
import type { DeviceLog, LogLevel } from '../device-log'
import type { LineSettings } from '../line-settings'
import type { SimLogger } from '../logger'
import type { JsonValue } from '../topology'
import {
  type Equipment,
  type Fault,
  type Operation,
  type OperationContext,
  OperationFailed,
  type Payload,
} from './command'

/** What the child agent lends a running command. */
export interface CommandHost {
  readonly tickMs: number
  readonly signal: AbortSignal
  readonly logger: SimLogger
  /** Retained, QoS 1 (reference §3.1). */
  publish(topic: string, payload: string): Promise<void>
  power(on: boolean): Promise<void>
  setTwin(key: string, value: JsonValue): void
  configure(settings: Partial<LineSettings>): void
}

function logTo(log: DeviceLog, equipment: Equipment, level: LogLevel, text: string): void {
  const type = equipment.profile.logs[0]?.type
  if (type) log.add(type, level, text)
}

/**
 * One command instance from `init` to `successful`/`failed`. Every state is the request with its
 * `status` replaced and the results added, so unknown fields (`@version`, `logPath`, …) survive
 * (reference §3.1, §9).
 */
export class CommandRun {
  private cleared = false
  private readonly results: Payload = {}

  constructor(
    readonly topic: string,
    private readonly cmdId: string,
    private readonly request: Readonly<Payload>,
    private readonly operation: Operation,
    private readonly fault: Fault | undefined,
    private readonly equipment: Equipment,
    private readonly host: CommandHost,
  ) {}

  /** The requester cleared the topic: the device finishes what it started, but nothing more is published. */
  clear(): void {
    this.cleared = true
  }

  async run(): Promise<void> {
    const { host, operation, equipment } = this
    try {
      await this.publish('executing')
      const fields = await operation.run(this.context())
      Object.assign(this.results, fields)
      await this.publish('successful')
      logTo(equipment.log, equipment, 'INFO', `${operation.name} ${this.cmdId} successful`)
    } catch (error) {
      // A stopping agent leaves the command where it was, as a killed tedge-agent would.
      if (host.signal.aborted) return
      let reason: string
      if (error instanceof OperationFailed) {
        Object.assign(this.results, error.fields)
        reason = error.reason
      } else {
        host.logger.error({ err: error, topic: this.topic }, 'simulated operation crashed')
        reason = `Internal error: ${(error as Error).message}`
      }
      this.results.reason = reason
      logTo(equipment.log, equipment, 'ERROR', `${operation.name} ${this.cmdId} failed: ${reason}`)
      await this.publish('failed')
    }
  }

  private async publish(status: string): Promise<void> {
    if (this.cleared || this.host.signal.aborted) return
    const state = { ...this.request, ...this.results, status }
    await this.host.publish(this.topic, JSON.stringify(state))
  }

  private faultReason(point: string): string | undefined {
    const fault = this.fault
    if (!fault || fault.point !== point) return undefined
    return typeof fault.reason === 'function' ? fault.reason(this.equipment) : fault.reason
  }

  private context(): OperationContext {
    const { host, equipment } = this
    const wait = (ticks: number) =>
      ticks > 0 ? delay(ticks * host.tickMs, undefined, { signal: host.signal }) : Promise.resolve()
    return {
      request: this.request,
      cmdId: this.cmdId,
      equipment,
      signal: host.signal,
      wait,
      step: async (status, ticks = 1) => {
        await this.publish(status)
        await wait(ticks)
      },
      faultAt: (point) => this.faultReason(point),
      fault: (point) => {
        const reason = this.faultReason(point)
        if (reason) throw new OperationFailed(reason)
      },
      power: (on) => host.power(on),
      setTwin: (key, value) => host.setTwin(key, value),
      configure: (settings) => host.configure(settings),
      log: (level, text) => logTo(equipment.log, equipment, level, text),
    }
  }
}
