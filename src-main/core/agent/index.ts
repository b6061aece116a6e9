import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import type { OperationView } from '../api/types'
import type { AuditStore } from '../audit/audit-store'
import type { Bus } from '../broker/bus'
import { parseJsonObject } from '../telemetry/payload'
import { formatTopic, MAIN_DEVICE } from '../topics'
import type { Change } from '../twin/changes'
import type { EntityStore } from '../twin/entity-store'
import { readAgentSettings } from './agent-settings'
import type { BuiltinOperation } from './builtin/builtin'
import { commandInputProblem } from './command-input'
import type { ConfigVersionStore } from './config-versions'
import { fileUrl, localFile } from './file-transfer'
import { isTerminal, type Operation, type OperationStore } from './operation-store'
import { keepResults } from './results'
import type { SoftwareInventory } from './software-inventory'
import { watchFolders } from './watch'
import { WorkflowEngine } from './workflow/engine'
import { WorkflowRegistry } from './workflow/registry'

export { isTerminal, type Operation } from './operation-store'

export interface AgentDeps {
  db: Database
  bus: Bus
  store: OperationStore
  configs: ConfigVersionStore
  software: SoftwareInventory
  entities: EntityStore
  audit: AuditStore
  builtins: BuiltinOperation[]
  logger: Logger
  notify: (change: Change) => void
  dataDir: string
  topicRoot: string
  /** Run workflows for the main device (off when attached to a device that has its own agent). */
  enabled: boolean
  /** The core's HTTP base URL, for the `tedgeUrl` of file transfers. */
  httpUrl: () => string
  /** Environment of workflow scripts. */
  scriptEnv: () => NodeJS.ProcessEnv
  now: () => number
}

/** Operations whose requester names where the file goes (thin-edge.io mappers fill `tedgeUrl`). */
const FILE_OPERATIONS = new Set(['config_snapshot', 'config_update', 'log_upload'])

/** Configuration contents up to this size (bytes) are kept in the audit trail as text. */
const AUDIT_CONTENT_LIMIT = 64 * 1024

/** An operation name as it may appear in a topic: no levels, no wildcards. */
const OPERATION_NAME = /^[A-Za-z0-9_.-]+$/

export class AgentError extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 409,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The agent runtime: tracks every command on the bus, runs the workflows EdgeTwin owns (the main
 * device's built-in operations and the workflows in operations/), and requests operations for the
 * UI and API as a thin-edge.io requester does: `init`, then clear the topic once it is done.
 */
export class Agent {
  readonly workflows: WorkflowRegistry
  readonly engine: WorkflowEngine
  private readonly builtins: Map<string, BuiltinOperation>
  private published = new Map<string, string>()
  /** Clears of commands run by others, by topic, until the broker has them (see clearTopic). */
  private readonly clearing = new Map<string, Promise<void>>()
  /** Capability publishing, one round at a time (built-ins read plugin folders to answer). */
  private capabilities: Promise<void> = Promise.resolve()
  private started = false
  private unwatch: () => void = () => {}

  constructor(private readonly deps: AgentDeps) {
    this.builtins = new Map(deps.builtins.map((b) => [b.name, b]))
    this.workflows = new WorkflowRegistry({
      dir: path.join(deps.dataDir, 'operations'),
      db: deps.db,
      builtins: new Map(deps.builtins.map((b) => [b.name, b.workflow])),
      logger: deps.logger,
    })
    this.engine = new WorkflowEngine({
      store: deps.store,
      workflows: this.workflows,
      builtins: this.builtins,
      publish: (operation) => {
        // Published before anything `changed` sends (such as the requester's clear), so order holds.
        const published = this.publishState(operation)
        this.changed(operation)
        return published
      },
      request: (parent, operation, payload) => this.requestSub(parent, operation, payload),
      clear: (operation) => this.clearTopic(operation),
      restartAgent: () => void this.restart(),
      topicRoot: deps.topicRoot,
      dataDir: deps.dataDir,
      logsDir: path.join(deps.dataDir, 'logs'),
      env: deps.scriptEnv,
      now: deps.now,
      logger: deps.logger.child({ component: 'workflow' }),
    })
  }

  /** Before the bus starts: the workflows, so the first command that arrives finds its owner. */
  load(): void {
    if (!this.deps.enabled) return
    this.workflows.start()
    // New workflows, sm-plugins or plugin files change what the main device can do.
    const { dataDir } = this.deps
    this.unwatch = watchFolders(
      [
        ...['operations', 'sm-plugins', 'plugins'].map((folder) => ({ folder: path.join(dataDir, folder) })),
        // The data dir itself changes all the time (the database); only its system.toml matters here.
        { folder: dataDir, only: 'system.toml' },
      ],
      () => this.reload(),
      this.deps.logger,
    )
  }

  /** Rereads the workflows and announces the capabilities again. */
  reload(): void {
    this.workflows.reload()
    this.publishCapabilities()
  }

  /** Once the bus is up: capabilities, then every command left running by the last run resumes. */
  start(): void {
    this.started = true
    if (this.deps.enabled) this.publishCapabilities()
    this.resume()
  }

  async stop(): Promise<void> {
    this.started = false
    this.unwatch()
    await this.capabilities
    await this.engine.stop()
  }

  /** Settles once the capabilities of the latest change are published. */
  capabilitiesPublished(): Promise<void> {
    return this.capabilities
  }

  /** `restart-agent`: the agent runtime stops, rereads its workflows and resumes its commands. */
  async restart(): Promise<void> {
    this.deps.logger.info('agent restarting')
    await this.engine.stop()
    if (!this.started) return
    if (this.deps.enabled) this.reload()
    this.resume()
    this.engine.restarted()
  }

  private resume(): void {
    for (const operation of this.deps.store.uncleared()) {
      if (operation.executor === 'edgetwin' && !isTerminal(operation.status)) {
        this.deps.logger.info(
          { operation: operation.operation, cmdId: operation.cmdId, status: operation.status },
          'resuming command',
        )
        this.engine.run(operation, true)
      } else if (isTerminal(operation.status) && operation.requestedBy && operation.parentId === null) {
        // Finished while EdgeTwin was down: the requester's part, clearing the topic, is still due.
        this.finished(operation)
      }
    }
  }

  /** Whether EdgeTwin runs `operation` on `entity` (thin-edge.io: the agent of that device). */
  owns(entity: string, operation: string): boolean {
    return this.deps.enabled && entity === MAIN_DEVICE && this.workflows.get(operation) !== undefined
  }

  /**
   * A command message from the bus, published by MQTT client `client` (undefined for the core's own
   * messages, and for every message with an external broker): returns a rejection reason, or undefined.
   */
  onCommand(
    entity: string,
    operationName: string,
    cmdId: string,
    raw: Buffer,
    client?: string,
  ): string | undefined {
    const { store, now } = this.deps
    const existing = store.onTopic(entity, operationName, cmdId)
    if (raw.length === 0) {
      // While EdgeTwin's own clear of a command is on its way, a `sub:` id may already name the next
      // one: that clear is not a withdrawal of it.
      const topic = formatTopic(
        entity,
        { kind: 'command', operation: operationName, cmdId },
        this.deps.topicRoot,
      )
      if (existing && !this.clearing.has(topic)) this.cleared(existing)
      return undefined
    }
    const parsed = parseJsonObject(raw)
    if (!parsed.ok) return parsed.reason
    const payload = parsed.value
    // Reference §3.1: the agent drops a command without a status (the docs' "{} means init" is not what it does).
    if (typeof payload.status !== 'string') return 'a command must have a "status"'
    const status = payload.status

    if (existing && JSON.stringify(existing.payload) === JSON.stringify(payload)) return undefined
    if (existing?.executor === 'edgetwin') {
      if (status !== 'init') return undefined // our own state coming back, or an update we don't take
      if (!isTerminal(existing.status)) return 'Two concurrent requests are under execution on the same topic'
    }
    if (existing && status === 'init' && isTerminal(existing.status)) {
      // A requester reused a finished topic without clearing it: the old command is history now.
      this.cleared(existing)
    } else if (existing) {
      store.transition(existing, payload, now())
      this.changed(existing)
      return undefined
    }
    const operation = store.create(
      {
        entity,
        operation: operationName,
        cmdId,
        status,
        payload,
        executor: this.owns(entity, operationName) ? 'edgetwin' : 'external',
        parentId: this.parentOf(entity, cmdId)?.id ?? null,
      },
      now(),
    )
    // EdgeTwin's own requests are in the store before they reach the bus, so a command created here
    // was requested by a client: audited as one from the UI or the API is. A new command in a later
    // state that EdgeTwin runs is a request too, whatever it claims.
    if (status === 'init' || operation.executor === 'edgetwin') {
      this.deps.audit.append({
        actor: client === undefined ? 'mqtt' : `mqtt:${client}`,
        action: 'operation.request',
        entity,
        target: `${operationName}/${cmdId}`,
        before: null,
        after: payload,
      })
    }
    this.changed(operation)
    if (operation.executor === 'edgetwin') this.execute(operation, status !== 'init')
    return undefined
  }

  /** Requests an operation as an operator: publishes `init`; EdgeTwin clears the topic when it ends. */
  request(
    entity: string,
    operationName: string,
    input: Record<string, unknown>,
    actor: string,
    options: { cmdId?: string; notes?: Record<string, unknown> } = {},
  ): Operation {
    if (!OPERATION_NAME.test(operationName))
      throw new AgentError(400, `invalid operation name "${operationName}"`)
    if (!this.deps.entities.has(entity)) throw new AgentError(404, `entity ${entity} not found`)
    if (!this.deps.entities.capabilities(entity)?.has(operationName) && !this.owns(entity, operationName)) {
      throw new AgentError(409, `${entity} does not declare the ${operationName} operation`)
    }
    const cmdId = options.cmdId ?? this.newCmdId()
    const { status: _status, ...rest } = input
    const payload: Record<string, unknown> = { status: 'init', ...rest }
    const problem = commandInputProblem(operationName, payload)
    if (problem) throw new AgentError(400, problem)
    if (FILE_OPERATIONS.has(operationName) && typeof payload.tedgeUrl !== 'string') {
      payload.tedgeUrl = this.fileUrl(entity, operationName, cmdId)
    }
    const operation = this.deps.store.create(
      {
        entity,
        operation: operationName,
        cmdId,
        status: 'init',
        payload,
        executor: this.owns(entity, operationName) ? 'edgetwin' : 'external',
        requestedBy: actor,
      },
      this.deps.now(),
    )
    if (options.notes) {
      Object.assign(operation.agentState, options.notes)
      this.deps.store.update(operation)
    }
    this.deps.audit.append({
      actor,
      action: 'operation.request',
      entity,
      target: `${operationName}/${cmdId}`,
      before: null,
      after: payload,
    })
    void this.publishState(operation)
    this.changed(operation)
    if (operation.executor === 'edgetwin') this.execute(operation)
    return operation
  }

  /**
   * Sends a configuration file to an entity: the content is put under files/ and a `config_update`
   * points the device at it. Audited with the current and the new content.
   */
  requestConfigUpdate(
    entity: string,
    type: string,
    content: Buffer,
    actor: string,
    restoreOf?: { id: number; version: number },
  ): Operation {
    const cmdId = this.newCmdId()
    const url = this.fileUrl(entity, 'config_update', cmdId)
    const file = this.localFile(url) as string
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
    const operation = this.request(entity, 'config_update', { type, tedgeUrl: url }, actor, {
      cmdId,
      notes: restoreOf ? { restoreOf: restoreOf.id } : undefined,
    })
    const current = this.deps.configs.latest(entity, type)
    const text = (buffer: Buffer | undefined) =>
      buffer === undefined
        ? null
        : buffer.length <= AUDIT_CONTENT_LIMIT
          ? buffer.toString('utf8')
          : `(${buffer.length} bytes)`
    // The version numbers say which file is replaced by which; the contents show how.
    const replaced = current ? `, replacing version ${current.version}` : ''
    this.deps.audit.append({
      actor,
      action: restoreOf ? 'config.restore' : 'config.update',
      entity,
      target: restoreOf ? `${type} version ${restoreOf.version}${replaced}` : `${type}${replaced}`,
      before: current ? { content: text(this.deps.configs.content(current.id)) } : null,
      after: { content: text(content) },
    })
    return operation
  }

  /** A command id like thin-edge.io mappers make (`c8y-mapper-…`), without `:` (safe in file names). */
  newCmdId(): string {
    return `edgetwin-${this.deps.now().toString(36)}-${randomBytes(3).toString('hex')}`
  }

  cancellable(operation: Operation): boolean {
    if (operation.cleared || isTerminal(operation.status)) return false
    if (operation.executor === 'edgetwin') return this.engine.cancellable(operation)
    // Nobody has taken it yet: its requester may withdraw it.
    return operation.requestedBy !== null && operation.status === 'init'
  }

  cancel(operation: Operation, actor: string): Operation {
    if (!this.cancellable(operation)) {
      throw new AgentError(
        409,
        `${operation.operation} ${operation.cmdId} cannot be cancelled in state ${operation.status}`,
      )
    }
    this.deps.audit.append({
      actor,
      action: 'operation.cancel',
      entity: operation.entity,
      target: `${operation.operation}/${operation.cmdId}`,
      before: { status: operation.status },
      after: null,
    })
    if (operation.executor === 'edgetwin') {
      this.engine.cancel(operation, actor)
      return operation
    }
    const payload = {
      ...operation.payload,
      status: 'failed',
      reason: `Cancelled by ${actor} before any executor took it`,
    }
    this.deps.store.transition(operation, payload, this.deps.now())
    this.changed(operation)
    return operation
  }

  view(operation: Operation): OperationView {
    return {
      id: operation.id,
      entity: operation.entity,
      operation: operation.operation,
      cmdId: operation.cmdId,
      status: operation.status,
      terminal: isTerminal(operation.status),
      reason: operation.reason,
      payload: operation.payload,
      requestedBy: operation.requestedBy,
      executor: operation.executor,
      workflowVersion: operation.workflowVersion,
      createdAt: operation.createdAt,
      updatedAt: operation.updatedAt,
      finishedAt: operation.finishedAt,
      cancellable: this.cancellable(operation),
      parent: operation.parentId,
    }
  }

  /** The workflow log of a command EdgeTwin ran. */
  log(operation: Operation): string | null {
    if (operation.executor !== 'edgetwin') return null
    try {
      return readFileSync(this.engine.logFile(operation), 'utf8')
    } catch {
      return null
    }
  }

  /** The file under files/ a `tedgeUrl` of this core points at, if it does. */
  localFile(url: unknown): string | undefined {
    return localFile(this.deps.dataDir, url)
  }

  fileUrl(entity: string, operation: string, cmdId: string): string {
    return fileUrl(this.deps.httpUrl(), entity, operation, cmdId)
  }

  private parentOf(entity: string, cmdId: string): Operation | undefined {
    const match = /^sub:([^:]+):(.+)$/.exec(cmdId)
    return match ? this.deps.store.onTopic(entity, match[1] as string, match[2] as string) : undefined
  }

  private requestSub(
    parent: Operation,
    operationName: string,
    input: Record<string, unknown>,
  ): Operation | string {
    const { store, entities, now } = this.deps
    const cmdId = `sub:${parent.operation}:${parent.cmdId}`
    const owned = this.owns(parent.entity, operationName)
    if (!owned && !entities.capabilities(parent.entity)?.has(operationName)) {
      return `No workflow for the ${operationName} operation on ${parent.entity}`
    }
    const { status: _status, ...rest } = input
    const problem = commandInputProblem(operationName, rest)
    if (problem) return problem
    const stale = store.onTopic(parent.entity, operationName, cmdId)
    if (stale) this.clearTopic(stale)
    const operation = store.create(
      {
        entity: parent.entity,
        operation: operationName,
        cmdId,
        status: 'init',
        payload: { status: 'init', ...rest },
        executor: owned ? 'edgetwin' : 'external',
        parentId: parent.id,
      },
      now(),
    )
    void this.publishState(operation)
    this.changed(operation)
    if (owned) this.execute(operation)
    return operation
  }

  /**
   * Starts a new command EdgeTwin runs, unless what it carries fails the input checks: then it
   * fails at once with the reason, before any script, plugin or transfer ran.
   */
  private execute(operation: Operation, resumed = false): void {
    const problem = commandInputProblem(operation.operation, operation.payload)
    if (problem) {
      this.deps.logger.warn(
        { operation: operation.operation, cmdId: operation.cmdId, reason: problem },
        'command refused',
      )
      this.engine.refuse(operation, problem)
    } else {
      this.engine.run(operation, resumed)
    }
  }

  private changed(operation: Operation): void {
    this.engine.changed(operation)
    // What a command reported is stored before its end is announced: a client that fetches the
    // latest configuration version when it hears "successful" gets the one just applied.
    if (operation.status === 'successful') {
      const { configs, software, dataDir } = this.deps
      const { maxConfigBytes } = readAgentSettings(dataDir, this.deps.logger)
      keepResults(operation, { configs, software, dataDir, time: this.deps.now(), maxConfigBytes })
    }
    this.deps.notify({ kind: 'operation', entity: operation.entity, operation: this.view(operation) })
    if (isTerminal(operation.status)) this.finished(operation)
  }

  /** A command ended: clear the topic when EdgeTwin requested it, and follow up on it. */
  private finished(operation: Operation): void {
    if (operation.requestedBy && operation.parentId === null && !operation.cleared) this.clearTopic(operation)
    if (
      operation.operation === 'software_update' &&
      operation.requestedBy &&
      operation.requestedBy !== 'edgetwin'
    ) {
      // The list changed (or partly did): ask for the new one, as a cloud mapper does.
      try {
        this.request(operation.entity, 'software_list', {}, 'edgetwin')
      } catch (err) {
        this.deps.logger.debug({ err }, 'no software_list after software_update')
      }
    }
  }

  private cleared(operation: Operation): void {
    this.deps.store.clear(operation, this.deps.now())
    this.engine.changed(operation)
    this.deps.notify({ kind: 'operation', entity: operation.entity, operation: this.view(operation) })
  }

  /** The requester's duty (reference §3.1): a retained empty message removes the command. */
  private clearTopic(operation: Operation): void {
    this.cleared(operation)
    const topic = this.topic(operation)
    if (operation.executor === 'edgetwin') {
      void this.deps.bus.publish(topic, '', { retain: true, qos: 1 })
      return
    }
    // Another client published the terminal state, and the embedded broker passes a client's message
    // on only after the core handled it and committed: a clear sent now would reach the broker first
    // and leave the terminal state retained. It goes once that commit released the state.
    const clearing = new Promise<void>((resolve) =>
      this.deps.store.afterCommit(() => setImmediate(resolve)),
    ).then(() => this.deps.bus.publish(topic, '', { retain: true, qos: 1 }))
    this.clearing.set(topic, clearing)
    void clearing.finally(() => {
      if (this.clearing.get(topic) === clearing) this.clearing.delete(topic)
    })
  }

  private publishState(operation: Operation): Promise<void> {
    const topic = this.topic(operation)
    const payload = JSON.stringify(operation.payload)
    const publish = () => this.deps.bus.publish(topic, payload, { retain: true, qos: 1 })
    // A new command on a topic whose clear is still on its way (a `sub:` id reused) follows that clear.
    const clearing = this.clearing.get(topic)
    return clearing ? clearing.then(publish) : publish()
  }

  private topic(operation: Operation): string {
    return formatTopic(
      operation.entity,
      { kind: 'command', operation: operation.operation, cmdId: operation.cmdId },
      this.deps.topicRoot,
    )
  }

  /** Retained `cmd/<op>` for each operation the main device's agent runs; `""` removes a gone one. */
  private publishCapabilities(): void {
    this.capabilities = this.capabilities.then(async () => {
      const next = new Map<string, string>()
      for (const operation of this.workflows.operations()) {
        const builtin = this.builtins.get(operation)
        // A built-in says what it can do (its types, or nothing without plugins); a user workflow is `{}`.
        const capability = await Promise.resolve(builtin?.capability()).catch((err) => {
          this.deps.logger.warn({ err, operation }, 'capability unknown')
          return undefined
        })
        const payload = capability ?? (this.workflows.get(operation)?.source === 'builtin' ? undefined : {})
        if (payload) next.set(operation, JSON.stringify(payload))
      }
      if (!this.started) return
      for (const [operation, payload] of next) {
        if (this.published.get(operation) !== payload) this.publishCapability(operation, payload)
      }
      for (const operation of this.published.keys())
        if (!next.has(operation)) this.publishCapability(operation, '')
      this.published = next
    })
  }

  private publishCapability(operation: string, payload: string): void {
    const topic = formatTopic(MAIN_DEVICE, { kind: 'capability', operation }, this.deps.topicRoot)
    void this.deps.bus.publish(topic, payload, { retain: true, qos: 1 })
  }
}
