import type { OperationView } from '../api/types'
import type { Alarm } from '../telemetry/alarm-store'
import type { EntityChange } from './entity-store'

/** What changed in the twin, as the live stream and other listeners receive it (after commit). */
export type Change =
  | EntityChange
  | {
      kind: 'measurement'
      entity: string
      type: string
      time: number
      names: readonly string[]
      values: readonly number[]
    }
  | {
      kind: 'event'
      entity: string
      id: number
      type: string
      time: number
      text: string
      /** The event's other fields, as the device sent them. */
      payload: unknown
    }
  | { kind: 'alarm'; entity: string; alarm: Alarm }
  | { kind: 'operation'; entity: string; operation: OperationView }
  | { kind: 'desired'; entity: string; version: number }
  | { kind: 'conflict'; entity: string; id: number }

export type ChangeListener = (changes: Change[]) => void

/**
 * Collects changes while a batch is being built and hands them to listeners once the batch has
 * committed, so a listener that reads the store sees what it was told about.
 */
export class ChangeFeed {
  private pending: Change[] = []
  private readonly listeners = new Set<ChangeListener>()
  private readonly taps: Array<(change: Change) => void> = []

  constructor(private readonly afterCommit: (callback: () => void) => void) {}

  readonly push = (change: Change): void => {
    for (const tap of this.taps) tap(change)
    // Nobody listening (no UI open): nothing to collect on the hot path.
    if (this.listeners.size === 0) return
    this.pending.push(change)
    if (this.pending.length === 1) {
      this.afterCommit(() => {
        const changes = this.pending
        this.pending = []
        for (const listener of this.listeners) listener(changes)
      })
    }
  }

  /**
   * Sees each change as it is made, before its batch commits, so work it queues (an outbox item,
   * a follow-up write) lands in the same transaction as the change.
   */
  tap(listener: (change: Change) => void): void {
    this.taps.push(listener)
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
