import type { Database, Statement } from 'better-sqlite3'
import type { OperationStateView } from '../api/types'
import { pageRows } from '../store/pages'
import { nextId, Where } from '../store/sql'
import type { BatchWriter } from '../store/writer'

/** Reference §3.1: `successful` and `failed` end a command; its requester then clears the topic. */
export const isTerminal = (status: string): boolean => status === 'successful' || status === 'failed'

export type Executor = 'edgetwin' | 'external'

/** One command instance, `te/<entity>/cmd/<operation>/<cmdId>`. */
export interface Operation {
  id: number
  entity: string
  operation: string
  cmdId: string
  status: string
  reason: string | null
  payload: Record<string, unknown>
  requestedBy: string | null
  executor: Executor
  workflowVersion: string | null
  parentId: number | null
  /** The agent's notes for resuming after a restart; never published. */
  agentState: Record<string, unknown>
  createdAt: number
  updatedAt: number
  finishedAt: number | null
  /** The requester has cleared the topic: the command is history. */
  cleared: boolean
}

export interface OperationQuery {
  entities?: string[]
  operation?: string
  /** Statuses to match; `active` matches every non-terminal status. */
  statuses?: string[]
  from?: number
  to?: number
  /** Only operations with a smaller id: the next page of a list read newest first. */
  before?: number
  limit: number
}

interface OperationRow {
  id: number
  entity: string
  operation: string
  cmd_id: string
  status: string
  reason: string | null
  payload: string
  requested_by: string | null
  executor: Executor
  workflow_version: string | null
  parent_id: number | null
  agent_state: string
  created_at: number
  updated_at: number
  finished_at: number | null
  cleared: number
}

const topicKey = (entity: string, operation: string, cmdId: string) =>
  `${entity}\u0000${operation}\u0000${cmdId}`

function fromRow(r: OperationRow): Operation {
  return {
    id: r.id,
    entity: r.entity,
    operation: r.operation,
    cmdId: r.cmd_id,
    status: r.status,
    reason: r.reason,
    payload: JSON.parse(r.payload),
    requestedBy: r.requested_by,
    executor: r.executor,
    workflowVersion: r.workflow_version,
    parentId: r.parent_id,
    agentState: JSON.parse(r.agent_state),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    cleared: r.cleared === 1,
  }
}

/**
 * Every command and the states it went through. The commands still on their topic (not cleared) are
 * kept in memory, keyed by topic; history is read from the database.
 */
export class OperationStore {
  private readonly open = new Map<string, Operation>()
  private nextId = 1
  private statements!: {
    upsert: Statement
    state: Statement
    states: Statement
    byId: Statement
  }
  private readonly stateSeq = new Map<number, number>()

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    const db = this.db
    this.statements = {
      upsert: db.prepare(`INSERT INTO operations (id, entity, operation, cmd_id, status, reason, payload,
          requested_by, executor, workflow_version, parent_id, agent_state, created_at, updated_at, finished_at, cleared)
        VALUES (@id, @entity, @operation, @cmdId, @status, @reason, @payload, @requestedBy, @executor,
          @workflowVersion, @parentId, @agentState, @createdAt, @updatedAt, @finishedAt, @cleared)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
          payload = excluded.payload, executor = excluded.executor, workflow_version = excluded.workflow_version,
          agent_state = excluded.agent_state, updated_at = excluded.updated_at,
          finished_at = excluded.finished_at, cleared = excluded.cleared`),
      state: db.prepare(
        'INSERT INTO operation_states (operation_id, seq, status, time, reason, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      states: db.prepare('SELECT * FROM operation_states WHERE operation_id = ? ORDER BY seq'),
      byId: db.prepare('SELECT * FROM operations WHERE id = ?'),
    }
    this.nextId = nextId(db, 'operations')
    this.open.clear()
    for (const row of db.prepare('SELECT * FROM operations WHERE cleared = 0').all() as OperationRow[]) {
      const operation = fromRow(row)
      this.open.set(topicKey(operation.entity, operation.operation, operation.cmdId), operation)
    }
  }

  /** The command on a topic, unless cleared. */
  onTopic(entity: string, operation: string, cmdId: string): Operation | undefined {
    return this.open.get(topicKey(entity, operation, cmdId))
  }

  /** Commands not cleared yet, oldest first. */
  uncleared(): Operation[] {
    return [...this.open.values()].sort((a, b) => a.id - b.id)
  }

  create(
    fields: Pick<Operation, 'entity' | 'operation' | 'cmdId' | 'status' | 'payload' | 'executor'> &
      Partial<Pick<Operation, 'requestedBy' | 'parentId' | 'workflowVersion'>>,
    time: number,
  ): Operation {
    const operation: Operation = {
      id: this.nextId++,
      reason: reasonOf(fields.payload),
      requestedBy: null,
      parentId: null,
      workflowVersion: null,
      agentState: {},
      createdAt: time,
      updatedAt: time,
      finishedAt: null,
      cleared: false,
      ...fields,
    }
    this.open.set(topicKey(operation.entity, operation.operation, operation.cmdId), operation)
    this.save(operation)
    this.recordState(operation, time)
    return operation
  }

  /** A new state of the command: recorded in its history. */
  transition(operation: Operation, payload: Record<string, unknown>, time: number): void {
    operation.payload = payload
    operation.status = String(payload.status)
    operation.reason = reasonOf(payload)
    operation.updatedAt = time
    if (isTerminal(operation.status)) operation.finishedAt ??= time
    this.save(operation)
    this.recordState(operation, time)
  }

  /** Saves fields that are not a new state (agent notes, executor). */
  update(operation: Operation): void {
    this.save(operation)
  }

  /** Commits what is queued now, for notes that must survive a crash (before a reboot). */
  flush(): void {
    this.writer.flush()
  }

  /** Runs `callback` once what is queued now is committed, with the MQTT acknowledgements held for it. */
  afterCommit(callback: () => void): void {
    this.writer.afterCommit(callback, true)
  }

  /** The requester cleared the topic. */
  clear(operation: Operation, time: number): void {
    operation.cleared = true
    operation.updatedAt = time
    this.open.delete(topicKey(operation.entity, operation.operation, operation.cmdId))
    this.save(operation)
  }

  byId(id: number): Operation | undefined {
    for (const operation of this.open.values()) if (operation.id === id) return operation
    this.writer.flush()
    const row = this.statements.byId.get(id) as OperationRow | undefined
    return row && fromRow(row)
  }

  states(id: number): OperationStateView[] {
    this.writer.flush()
    const rows = this.statements.states.all(id) as Array<{
      status: string
      time: number
      reason: string | null
      payload: string
    }>
    return rows.map((r) => ({
      status: r.status,
      time: r.time,
      reason: r.reason,
      payload: JSON.parse(r.payload),
    }))
  }

  /** Newest first, read lazily row by row (see pageRows). */
  *query(q: OperationQuery): Generator<Operation> {
    this.writer.flush()
    const where = new Where()
      .add('operation = ?', q.operation)
      .add('created_at >= ?', q.from)
      .add('created_at < ?', q.to)
      .add('id < ?', q.before)
      .oneOf('entity', q.entities)
    const named = q.statuses?.filter((s) => s !== 'active')
    if (q.statuses?.includes('active')) {
      // Terminal statuses are the two thin-edge.io defines; everything else is still in progress.
      where.raw(
        `(status NOT IN ('successful', 'failed')${named?.length ? ` OR status IN (${named.map(() => '?').join(',')})` : ''})`,
        named ?? [],
      )
    } else where.oneOf('status', named)
    const rows = pageRows<OperationRow>(this.db, {
      table: 'operations',
      columns: '*',
      where,
      order: 'id DESC',
      limit: q.limit,
    })
    for (const row of rows) yield this.onTopic(row.entity, row.operation, row.cmd_id) ?? fromRow(row)
  }

  private save(operation: Operation): void {
    const row = {
      ...operation,
      payload: JSON.stringify(operation.payload),
      agentState: JSON.stringify(operation.agentState),
      cleared: operation.cleared ? 1 : 0,
    }
    this.writer.write(() => this.statements.upsert.run(row))
  }

  private recordState(operation: Operation, time: number): void {
    const seq = (this.stateSeq.get(operation.id) ?? this.lastSeq(operation.id)) + 1
    this.stateSeq.set(operation.id, seq)
    if (isTerminal(operation.status)) this.stateSeq.delete(operation.id)
    const { id, status, reason } = operation
    const payload = JSON.stringify(operation.payload)
    this.writer.write(() => this.statements.state.run(id, seq, status, time, reason, payload))
  }

  private lastSeq(id: number): number {
    this.writer.flush()
    const row = this.db
      .prepare('SELECT max(seq) AS seq FROM operation_states WHERE operation_id = ?')
      .get(id) as {
      seq: number | null
    }
    return row.seq ?? 0
  }
}

function reasonOf(payload: Record<string, unknown>): string | null {
  return typeof payload.reason === 'string' ? payload.reason : null
}
