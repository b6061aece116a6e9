import type { Logger } from 'pino'
import type { OperationView } from '../api/types'
import type { Change } from './changes'
import { DESIRED_OPERATION, type DesiredStore } from './desired-store'
import type { EntityStore } from './entity-store'

export interface DesiredApplierDeps {
  desired: DesiredStore
  entities: EntityStore
  /** Requests `desired_update` on an entity as EdgeTwin. */
  request: (entity: string, payload: Record<string, unknown>) => OperationView
  /** A command's current view by its operation id, if it is still stored. */
  find: (operationId: number) => OperationView | undefined
  /** Whether the command is still on its topic (not cleared). */
  isOpen: (operationId: number) => boolean
  logger: Logger
}

/**
 * Brings devices to their desired properties: whenever an entity that declares `desired_update` has
 * properties not applied at their version, it gets one `desired_update` command carrying them, and
 * its result becomes each property's acknowledgement. One command per entity at a time; what
 * changes meanwhile goes in the next.
 */
export class DesiredApplier {
  private readonly due = new Set<string>()
  private timer: NodeJS.Immediate | undefined

  constructor(private readonly deps: DesiredApplierDeps) {}

  /** After a restart: settle commands that ended (or vanished) while EdgeTwin was down, then send. */
  start(): void {
    const { desired, find } = this.deps
    for (const entity of desired.entities()) {
      const command = desired.command(entity)
      if (command) {
        const operation = find(command.operationId)
        if (!operation) desired.commandGone(entity, command.cmdId)
        else if (operation.terminal) this.answered(operation)
      }
      this.schedule(entity)
    }
  }

  stop(): void {
    if (this.timer) clearImmediate(this.timer)
    this.timer = undefined
  }

  /** The ChangeFeed's tap. */
  readonly onChange = (change: Change): void => {
    switch (change.kind) {
      case 'desired':
        this.schedule(change.entity)
        return
      case 'entity':
        // Its capabilities may now include desired_update.
        if (change.op === 'upsert' && this.deps.desired.pending(change.entity)) this.schedule(change.entity)
        return
      case 'operation': {
        const { operation } = change
        if (operation.operation !== DESIRED_OPERATION) return
        // Withdrawn before the device took it: what it carried is pending again.
        if (!operation.terminal && !this.deps.isOpen(operation.id))
          this.deps.desired.commandGone(operation.entity, operation.cmdId)
        else this.answered(operation)
        return
      }
    }
  }

  private answered(operation: OperationView): void {
    const { payload } = operation
    const results =
      typeof payload.results === 'object' && payload.results !== null ? payload.results : undefined
    this.deps.desired.acknowledge(
      operation.entity,
      operation.cmdId,
      operation.status,
      operation.reason ?? undefined,
      results as Record<string, unknown> | undefined,
    )
  }

  // Sending waits for the current turn to finish: it is called from inside change notifications.
  private schedule(entity: string): void {
    this.due.add(entity)
    this.timer ??= setImmediate(() => {
      this.timer = undefined
      const entities = [...this.due]
      this.due.clear()
      for (const e of entities) this.send(e)
    })
  }

  private send(entity: string): void {
    const { desired, entities, request, logger } = this.deps
    if (!entities.capabilities(entity)?.has(DESIRED_OPERATION)) return
    const pending = desired.pending(entity)
    if (!pending) return
    try {
      const operation = request(entity, pending)
      desired.commandSent(entity, { cmdId: operation.cmdId, operationId: operation.id, ...pending })
    } catch (err) {
      logger.warn({ err, entity }, 'cannot request desired_update')
    }
  }
}
