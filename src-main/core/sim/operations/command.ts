import type { AgentProfile } from '../agent-profiles'
import type { DeviceConfig } from '../device-config'
import type { DeviceLog, LogLevel } from '../device-log'
import type { SoftwareInventory } from '../device-software'
import type { LineSettings } from '../line-settings'
import type { JsonValue } from '../topology'

/** A command payload: a JSON object whose fields, known or not, travel through every state (reference §3.1). */
export type Payload = Record<string, unknown>

/** Ends an operation in `failed` with this reason (and extra result fields, e.g. `failures`). */
export class OperationFailed extends Error {
  constructor(
    readonly reason: string,
    readonly fields: Payload = {},
  ) {
    super(reason)
  }
}

export interface Firmware {
  name: string
  version: string
  url?: string
}

/** A simulated child device as its agent sees it: what operations read and change. */
export interface Equipment {
  readonly id: string
  readonly name: string
  readonly profile: AgentProfile
  firmware: Firmware
  readonly config: DeviceConfig
  readonly software: SoftwareInventory
  readonly log: DeviceLog
}

/** A realistic way for an operation to fail, injected with the simulator's `faultRate`. */
export interface Fault {
  /** Where in the operation it strikes, as named by the operation's `ctx.fault(point)` calls. */
  point: string
  reason: string | ((equipment: Equipment) => string)
}

/** What a running operation can do; everything it publishes goes through the agent's MQTT client. */
export interface OperationContext {
  readonly request: Readonly<Payload>
  readonly cmdId: string
  readonly equipment: Equipment
  /** Aborted when the agent stops: pending waits and transfers reject, nothing more is published. */
  readonly signal: AbortSignal
  /** Publishes an intermediate state (the request's fields kept), then waits `ticks`. */
  step(status: string, ticks?: number): Promise<void>
  /** Waits `ticks` simulated seconds (`tickMs` each). */
  wait(ticks: number): Promise<void>
  /** Fails the operation here if the injected fault is due at this point. */
  fault(point: string): void
  /** The injected fault's reason if it is due at this point, for faults that need more than a throw. */
  faultAt(point: string): string | undefined
  /** Powers the device off (agent health down, data stops) or on again. */
  power(on: boolean): Promise<void>
  setTwin(key: string, value: JsonValue): void
  configure(settings: Partial<LineSettings>): void
  /** A line in the device's own log (its first log type). */
  log(level: LogLevel, text: string): void
}

export interface Operation {
  readonly name: string
  /** The retained capability payload (reference §3.1), or undefined when the device cannot do it. */
  capability(profile: AgentProfile): Payload | undefined
  readonly faults: readonly Fault[]
  /** Resolves with the fields `successful` adds; rejects with OperationFailed for `failed`. */
  run(ctx: OperationContext): Promise<Payload | undefined>
}

/** A required non-empty string field of the request, else the operation fails naming it. */
export function requireString(request: Readonly<Payload>, operation: string, key: string): string {
  const value = request[key]
  if (typeof value !== 'string' || value === '') {
    throw new OperationFailed(`Invalid ${operation} request: "${key}" is required`)
  }
  return value
}

/** The first of `keys` holding a non-empty string. */
export function firstString(request: Readonly<Payload>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = request[key]
    if (typeof value === 'string' && value !== '') return value
  }
  return undefined
}
