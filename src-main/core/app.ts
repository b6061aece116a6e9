import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { Agent } from './agent'
import { createBuiltins } from './agent/builtin'
import { ConfigVersionStore } from './agent/config-versions'
import { installDefaults } from './agent/defaults'
import { OperationStore } from './agent/operation-store'
import { scriptEnvironment } from './agent/script-env'
import { SoftwareInventory } from './agent/software-inventory'
import { type ApiServer, createApiServer } from './api'
import { loginUrl } from './api/session-routes'
import { AuditStore } from './audit/audit-store'
import { SessionStore } from './auth/session-store'
import type { Bus } from './broker/bus'
import { EmbeddedBus } from './broker/embedded-bus'
import { ExternalBus } from './broker/external-bus'
import { type CoreOptions, defaultOptions } from './config'
import type { LogFile } from './config/log-file'
import { createLogger } from './config/logger'
import { type Exposure, type LanReady, lanReady, prepareExposure } from './exposure'
import { Ingest } from './ingest'
import { createSimulator, type Simulator } from './sim'
import { lineSeriesDefaults } from './sim/series-defaults'
import { prepareDataDir } from './store/data-dir'
import { lockDataDir } from './store/data-dir-lock'
import { type Database, openDatabase } from './store/database'
import { DiskGuard, type DiskState } from './store/disk-guard'
import { removeRuntimeFile, writeRuntimeFile } from './store/runtime-file'
import { BatchWriter } from './store/writer'
import { SyncService } from './sync'
import { SyncConfigStore } from './sync/config-store'
import { HybridClock } from './sync/hlc'
import { Outbox } from './sync/outbox'
import type { AlarmActionDeps } from './telemetry/alarm-actions'
import { ShelfExpiry } from './telemetry/alarm-shelf-expiry'
import { AlarmStore } from './telemetry/alarm-store'
import { EventStore } from './telemetry/event-store'
import { SeriesSettingsStore } from './telemetry/series-settings'
import { SeriesStore } from './telemetry/series-store'
import { formatTopic, MAIN_DEVICE } from './topics'
import { ChangeFeed } from './twin/changes'
import { DesiredApplier } from './twin/desired-applier'
import { DESIRED_OPERATION, DesiredStore } from './twin/desired-store'
import { EntityStore } from './twin/entity-store'
import { version } from './version'

export interface Ready {
  http: string
  mqtt: string
  pid: number
  token: string
  /** One-time URL that logs a browser in to the UI. */
  login: string
  /** Set when `--host` is not loopback: how other machines reach this core. */
  lan?: LanReady
}

/** The core's own service on the main device, as tedge-agent is for thin-edge.io. */
export const CORE_SERVICE = 'device/main/service/edgetwin'

/** Everything the API and other parts read from; built by start(). */
export interface CoreParts {
  options: CoreOptions
  logger: Logger
  db: Database
  writer: BatchWriter
  entities: EntityStore
  series: SeriesStore
  seriesSettings: SeriesSettingsStore
  events: EventStore
  alarms: AlarmStore
  /** What operator actions on alarms (acknowledge, clear, shelve, comment) need. */
  alarmActions: AlarmActionDeps
  shelfExpiry: ShelfExpiry
  audit: AuditStore
  bus: Bus
  /** TLS and MQTT users for clients beyond loopback; undefined on a loopback host. */
  exposure?: Exposure
  ingest: Ingest
  changes: ChangeFeed
  sessions: SessionStore
  operations: OperationStore
  configs: ConfigVersionStore
  software: SoftwareInventory
  agent: Agent
  desired: DesiredStore
  sync: SyncService
  disk: DiskGuard
  /** The log file, with its count of dropped lines (undefined with a logger given by the caller). */
  logFile: LogFile | undefined
  token: string
  mqttUrl: string
  /** The HTTP base URL, once listening. */
  httpUrl: string
  startedAt: number
  version: string
}

export interface Core {
  start(): Promise<Ready>
  stop(): Promise<void>
  /** Available after start(). */
  readonly parts: CoreParts
}

const RETENTION_INTERVAL_MS = 10 * 60_000

/** Creates the core: the only place where its parts are wired together. */
export function createCore(input: Partial<CoreOptions> & { dataDir: string }): Core {
  const options: CoreOptions = { ...defaultOptions, ...input }
  let parts: CoreParts | undefined
  let api: ApiServer | undefined
  let sim: Simulator | undefined
  let applier: DesiredApplier | undefined
  let retentionTimer: NodeJS.Timeout | undefined
  let firstRetention: NodeJS.Timeout | undefined
  let unlock: (() => void) | undefined
  let lastStamp = 0
  // Receive times are strictly increasing so two values of a series never share an instant.
  const stamp = () => {
    lastStamp = Math.max(Date.now(), lastStamp + 0.001)
    return lastStamp
  }

  async function start(): Promise<Ready> {
    prepareDataDir(options.dataDir)
    const unlockDir = lockDataDir(options.dataDir)
    unlock = unlockDir
    let token: string
    let db: Database
    let logger: Logger
    let logFile: LogFile | undefined
    try {
      await installDefaults(options.dataDir)
      if (options.logger) logger = options.logger
      else
        ({ logger, file: logFile } = createLogger(
          options.logLevel,
          path.join(options.dataDir, 'logs', 'edgetwin.log'),
        ))
      token = options.token ?? loadToken(path.join(options.dataDir, 'token'))
      db = openDatabase(path.join(options.dataDir, 'edgetwin.db'))
    } catch (error) {
      logFile?.close()
      unlockDir()
      throw error
    }
    try {
      const disk = new DiskGuard({
        dir: options.dataDir,
        reserveBytes: options.minFreeDiskBytes,
        now: Date.now,
        onChange: (state) => onDiskChange(state),
      })
      const writer = new BatchWriter(db, {
        maxOps: 5000,
        maxDelayMs: 20,
        onError: (error) => logger.error({ err: error }, 'store write failed'),
        onStorageState: (error) => disk.storageFailed(error),
      })
      const changes = new ChangeFeed((callback) => writer.afterCommit(callback))
      const entities = new EntityStore(db, writer, changes.push, Date.now)
      const seriesSettings = new SeriesSettingsStore(db, writer)
      const series = new SeriesStore(db, writer, (s) => {
        const entity = entities.byId(s.entityId)
        const seconds =
          entity && seriesSettings.expectedPeriod({ entity: entity.topicId, type: s.type, name: s.name })
        return seconds === undefined ? undefined : seconds * 1000
      })
      const events = new EventStore(db, writer)
      const alarms = new AlarmStore(db, writer, { groupOf: (id) => topDevice(entities, id), now: Date.now })
      const audit = new AuditStore(db, writer)
      const sessions = new SessionStore(db, token)
      const operations = new OperationStore(db, writer)
      for (const store of [entities, series, seriesSettings, events, alarms, audit, sessions, operations])
        store.start()
      const outbox = new Outbox(db, writer, Date.now)
      outbox.start()
      const desired = new DesiredStore({
        db,
        writer,
        audit,
        // Named after the outbox's stream, unique per data dir: two edges' clocks never tie.
        clock: new HybridClock(`edge-${outbox.stream}`),
        notify: changes.push,
        now: Date.now,
      })
      desired.start()
      const configs = new ConfigVersionStore(db)
      const software = new SoftwareInventory(db)
      const exposure = await prepareExposure({
        dataDir: options.dataDir,
        host: options.host,
        tlsCertFile: options.tlsCertFile,
        tlsKeyFile: options.tlsKeyFile,
        tlsCaFile: options.tlsCaFile,
        mqttPasswordFile: options.mqttPasswordFile,
        embeddedBroker: !options.brokerUrl,
        now: Date.now,
      })

      const bus: Bus = options.brokerUrl
        ? new ExternalBus({
            url: options.brokerUrl,
            clientId: `edgetwin-${randomBytes(4).toString('hex')}`,
            topicRoot: options.topicRoot,
            logger,
          })
        : new EmbeddedBus({
            db,
            host: options.host,
            port: options.mqttPort,
            logger,
            limits: options.mqttLimits,
            exposure,
            reject: (topic, reason) => ingest.reject(topic, reason),
          })
      const environment = () =>
        scriptEnvironment({
          dataDir: options.dataDir,
          mqttUrl: parts?.mqttUrl ?? '',
          httpUrl: parts?.httpUrl ?? '',
        })
      const agent: Agent = new Agent({
        db,
        bus,
        store: operations,
        configs,
        software,
        entities,
        audit,
        builtins: createBuiltins({
          dataDir: options.dataDir,
          bootIdFile: options.bootIdFile,
          restartTimeoutMs: options.restartTimeoutMs,
          publishTwin: (entity, key, value) =>
            bus.publish(
              formatTopic(entity, { kind: 'twin', key }, options.topicRoot),
              JSON.stringify(value),
              {
                retain: true,
                qos: 1,
              },
            ),
          fileUrl: (operation) => agent.fileUrl(operation.entity, operation.operation, operation.cmdId),
          env: () => environment(),
          logger,
        }),
        logger: logger.child({ component: 'agent' }),
        notify: changes.push,
        dataDir: options.dataDir,
        topicRoot: options.topicRoot,
        enabled: options.agent ?? !options.brokerUrl,
        httpUrl: () => parts?.httpUrl ?? '',
        scriptEnv: () => environment(),
        now: Date.now,
      })
      agent.load()
      const ingest = new Ingest({
        bus,
        writer,
        entities,
        series,
        events,
        alarms,
        logger,
        topicRoot: options.topicRoot,
        autoRegister: options.autoRegister,
        limits: {
          maxEntities: options.maxEntities,
          maxAutoRegisteredPerClient: options.maxAutoRegisteredPerClient,
          maxHeldRegistrations: options.maxHeldRegistrations,
        },
        stamp,
        notify: changes.push,
        refusal: () => disk.refusal,
        onHealthCheck: (entity) => {
          if (entity === CORE_SERVICE || entity === MAIN_DEVICE) void publishHealth('up')
        },
        onCommand: (entity, operation, cmdId, payload, client) =>
          agent.onCommand(entity, operation, cmdId, payload, client),
      })
      // thin-edge.io pre-registers the main device; so does EdgeTwin.
      if (!entities.has(MAIN_DEVICE))
        ingest.registrar.apply(ingest.registrar.validate(MAIN_DEVICE, { '@type': 'device' }), false)

      const alarmActions: AlarmActionDeps = {
        alarms,
        entities,
        audit,
        bus,
        notify: changes.push,
        topicRoot: options.topicRoot,
        now: Date.now,
        shelvesChanged: () => shelfExpiry.schedule(),
      }
      const shelfExpiry = new ShelfExpiry(alarmActions)
      const sync = new SyncService({
        db,
        writer,
        outbox,
        desired,
        entities,
        audit,
        configStore: new SyncConfigStore(options.dataDir),
        alarmActions,
        requestOperation: (entity, operation, payload, actor) =>
          agent.request(entity, operation, payload, actor).cmdId,
        logger: logger.child({ component: 'sync' }),
        now: Date.now,
      })
      changes.tap(sync.capture)
      const desiredApplier = new DesiredApplier({
        desired,
        entities,
        request: (entity, payload) =>
          agent.view(agent.request(entity, DESIRED_OPERATION, payload, 'edgetwin')),
        find: (id) => {
          const operation = operations.byId(id)
          return operation && agent.view(operation)
        },
        isOpen: (id) => operations.byId(id)?.cleared === false,
        logger,
      })
      applier = desiredApplier
      changes.tap(desiredApplier.onChange)

      parts = {
        options,
        logger,
        db,
        writer,
        entities,
        series,
        seriesSettings,
        events,
        alarms,
        alarmActions,
        shelfExpiry,
        audit,
        bus,
        exposure,
        ingest,
        changes,
        sessions,
        operations,
        configs,
        software,
        agent,
        desired,
        sync,
        disk,
        logFile,
        token,
        mqttUrl: '',
        httpUrl: '',
        startedAt: Date.now(),
        version,
      }
      disk.start()
      // Captures before the broker takes its first message (see SyncService.start), also when
      // sync is turned on from the command line.
      sync.start()
      if (options.syncConfig) await sync.configure(options.syncConfig, 'cli')
      const mqttUrl = await bus.start(ingest.handle)
      parts.mqttUrl = mqttUrl
      await ingest.restoreRegistrations()
      registerCoreService(bus)
      if (disk.refusal) onDiskChange(disk.view())
      api = createApiServer(parts)
      const http = await api.listen(options.host, options.httpPort)
      parts.httpUrl = http
      try {
        writeRuntimeFile(options.dataDir, {
          mqtt: mqttUrl,
          http,
          pid: process.pid,
          version,
          startedAt: parts.startedAt,
        })
      } catch (error) {
        // Only a convenience for tools (`edgetwin mqtt pub`): a full disk does not stop the core.
        logger.warn({ err: error }, 'running.json could not be written; tools will need --url')
      }
      agent.start()
      desiredApplier.start()
      shelfExpiry.start()
      if (options.sim) {
        // The simulation knows its own line's alarm limits and ranges: charts show them from the
        // start, and a person's settings are never replaced.
        seriesSettings.seed(lineSeriesDefaults())
        sim = createSimulator({
          url: mqttUrl,
          seed: options.seed,
          topicRoot: options.topicRoot,
          faultRate: options.simFaults,
          logger,
        })
        // A connector like any other: the core is ready without it (while the disk is full, its
        // registrations wait for their PUBACKs as long as it lasts).
        sim.start().catch((error) => logger.error({ err: error }, 'the simulated line did not start'))
      }
      retentionTimer = setInterval(applyRetention, RETENTION_INTERVAL_MS).unref()
      firstRetention = setTimeout(applyRetention, 60_000).unref()
      const ready: Ready = {
        http,
        mqtt: mqttUrl,
        pid: process.pid,
        token,
        login: loginUrl(http, sessions.createCode()),
      }
      if (exposure) {
        const mqttPort = options.brokerUrl ? undefined : Number(new URL(mqttUrl).port)
        const lan = lanReady(exposure, options.host, Number(new URL(http).port), mqttPort)
        ready.lan = lan
        logger.info(
          { https: lan.https, mqtts: lan.mqtts, fingerprint: lan.fingerprint },
          'listening beyond loopback (TLS)',
        )
      }
      return ready
    } catch (error) {
      if (parts) await stop()
      else {
        db.close()
        logFile?.close()
        unlock?.()
      }
      throw error
    }
  }

  /** The disk filled up or has room again: the core's service says so with an alarm, as devices do. */
  function onDiskChange(state: DiskState): void {
    if (!parts) return
    parts.logger[state.condition === 'ok' ? 'info' : 'error'](
      { free: state.freeBytes, reserve: state.reserveBytes },
      state.reason ?? 'disk space back above the reserve: data is taken again',
    )
    const topic = formatTopic(CORE_SERVICE, { kind: 'alarm', type: 'disk_full' }, options.topicRoot)
    const payload =
      state.condition === 'ok'
        ? ''
        : JSON.stringify({ severity: state.condition === 'full' ? 'critical' : 'major', text: state.reason })
    void parts.bus.publish(topic, payload, { retain: true, qos: 1 })
  }

  function registerCoreService(bus: Bus): void {
    bus.publish(
      formatTopic(CORE_SERVICE, { kind: 'registration' }, options.topicRoot),
      JSON.stringify({ '@parent': MAIN_DEVICE, '@type': 'service', name: 'edgetwin', type: 'service' }),
      { retain: true, qos: 1 },
    )
    void publishHealth('up')
  }

  async function publishHealth(status: 'up' | 'down'): Promise<void> {
    if (!parts) return
    const payload =
      status === 'up' ? { pid: process.pid, status, time: Date.now() / 1000 } : { pid: process.pid, status }
    await parts.bus.publish(
      formatTopic(CORE_SERVICE, { kind: 'health' }, options.topicRoot),
      JSON.stringify(payload),
      {
        retain: true,
        qos: 1,
      },
    )
  }

  function applyRetention(): void {
    if (!parts) return
    const { series, events, alarms, logger } = parts
    const now = Date.now()
    const r = options.retention
    try {
      const deleted =
        series.applyRetention(r, now) +
        events.applyRetention(r.eventDays, now) +
        alarms.applyRetention(r.clearedAlarmDays, now)
      if (deleted > 0) logger.info({ deleted }, 'retention applied')
    } catch (error) {
      // A full disk can refuse even a delete (the WAL grows first); the next round tries again.
      logger.error({ err: error }, 'retention could not be applied')
    }
  }

  async function stop(): Promise<void> {
    clearInterval(retentionTimer)
    clearTimeout(firstRetention)
    // First: from here on the core no longer takes messages, so no tool should find it.
    if (parts) removeRuntimeFile(options.dataDir)
    retentionTimer = undefined
    firstRetention = undefined
    await sim?.stop()
    sim = undefined
    await api?.close()
    api = undefined
    if (!parts) return
    const { bus, writer, ingest, db, logger, logFile, agent, sync, disk, shelfExpiry } = parts
    shelfExpiry.stop()
    applier?.stop()
    await agent.stop()
    await publishHealth('down')
    await bus.stop()
    ingest.stop()
    // The last batch, with its outbox items, is written before sync lets go (SyncService.start).
    if (!writer.stop()) logger.error({ err: writer.failing }, 'the last batch could not be stored')
    await sync.stop()
    disk.stop()
    db.close()
    unlock?.()
    logger.info('stopped')
    await logFile?.flush()
    logFile?.close()
    parts = undefined
  }

  return {
    start,
    stop,
    get parts() {
      if (!parts) throw new Error('the core is not started')
      return parts
    },
  }
}

/** Reads the API token, generating it on first start (owner-only, written atomically). */
function loadToken(file: string): string {
  try {
    const token = readFileSync(file, 'utf8').trim()
    if (token) return token
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const token = randomBytes(24).toString('base64url')
  writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
  return token
}

/** The top-level device above an entity (itself when it has no parent): a line, for first-out. */
function topDevice(entities: EntityStore, entityId: number): number {
  let entity = entities.byId(entityId)
  for (let depth = 0; entity?.parent !== undefined && depth < 64; depth++) {
    const parent = entities.get(entity.parent)
    if (!parent) break
    entity = parent
  }
  return entity?.id ?? entityId
}
