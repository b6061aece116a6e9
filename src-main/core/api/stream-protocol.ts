// The frames of /api/v1/stream, shared by the core and the UI.
import type { Alarm } from '../telemetry/alarm-store'
import type { OperationView } from './types'

export type StreamChange = (
  | { kind: 'entity'; entity: string; op: 'upsert' | 'delete' }
  | { kind: 'twin'; entity: string; key: string; value: unknown }
  | { kind: 'health'; entity: string; status: string }
  /** Latest value per series since the last frame (older values of the interval are coalesced away). */
  | { kind: 'measurement'; entity: string; type: string; time: number; values: Record<string, number> }
  | { kind: 'event'; entity: string; id: number; type: string; time: number; text: string }
  | { kind: 'alarm'; entity: string; alarm: Omit<Alarm, 'entityId'> & { entity: string } }
  /** A command changed state (latest per command since the last frame). */
  | { kind: 'operation'; entity: string; operation: OperationView }
  /** An entity's desired properties or their acknowledgements changed (GET …/desired for them). */
  | { kind: 'desired'; entity: string; version: number }
  /** A sync conflict was recorded or resolved. */
  | { kind: 'conflict'; entity: string; id: number }
) & {
  /**
   * The change was too large for a frame: its texts are cut short and its twin value, payloads or
   * extra values left out (`null`/`{}`); the API has it whole.
   */
  truncated?: true
}

export type StreamFrame =
  | { type: 'hello'; version: string; time: number; intervalMs: number }
  | {
      type: 'changes'
      time: number
      changes: StreamChange[]
      /** Events left out because more arrived in one interval than a frame carries. */
      droppedEvents: number
      /** Changes left out because even cut short they were too large for a frame (the API has them). */
      omittedChanges?: number
    }
