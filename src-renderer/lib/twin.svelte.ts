// The UI's live copy of the twin: a snapshot over HTTP, then the /api/v1/stream WebSocket, with a
// reconnect (and a fresh snapshot) whenever the connection drops.
import { SvelteMap } from 'svelte/reactivity'
import type { StreamChange, StreamFrame } from '../../src-main/core/api/stream-protocol'
import {
  type AlarmView,
  api,
  type EntitySummary,
  type HealthStatus,
  type OperationView,
  type StatusView,
  type SyncStatusView,
} from './api'
import { link } from './connection.svelte'

export type Connection = 'connecting' | 'live' | 'offline'

export interface LatestValue {
  time: number
  value: number
}

export interface LiveEvent {
  id: number
  entity: string
  type: string
  time: number
  text: string
}

type MeasurementChange = Extract<StreamChange, { kind: 'measurement' }>

/** Key of a series in `latest`: entity, measurement type and series name. */
export const seriesKey = (entity: string, type: string, name: string) => `${entity}\u0000${type}\u0000${name}`

const RECENT_EVENTS = 50
// Capped at 3 s: a kiosk must show the line live again soon after the core is back.
const RETRY_MS = [500, 1000, 2000, 3000]

export class Twin {
  readonly entities = new SvelteMap<string, EntitySummary>()
  /** Open alarms (active and acknowledged), newest first. */
  alarms = $state<AlarmView[]>([])
  readonly latest = new SvelteMap<string, LatestValue>()
  events = $state<LiveEvent[]>([])
  connection = $state<Connection>('connecting')
  status = $state<StatusView | null>(null)
  /** The cloud sync's state, for the top bar; null until the core answers it. */
  sync = $state<SyncStatusView | null>(null)

  private socket: WebSocket | undefined
  private retries = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private statusTimer: ReturnType<typeof setInterval> | undefined
  private ticks = 0
  private stopped = false
  private readonly measurementListeners = new Set<(change: MeasurementChange) => void>()
  private readonly alarmListeners = new Set<(alarm: AlarmView, previous: AlarmView | undefined) => void>()
  private readonly entityListeners = new Set<(entity: string) => void>()
  private readonly operationListeners = new Set<(operation: OperationView) => void>()
  private refetchTimer: ReturnType<typeof setTimeout> | undefined
  /** Counts of `desired` and `conflict` changes per entity, and of conflict changes of any entity. */
  private readonly desiredChanges = new SvelteMap<string, number>()
  private readonly conflictChanges = new SvelteMap<string, number>()
  private anyConflictChanges = $state(0)
  /** Bumped when the stream comes back: changes may have been missed, so every revision moves on. */
  private resyncs = $state(0)

  /** Loads the snapshot and opens the stream. */
  async start(): Promise<void> {
    this.stopped = false
    await this.snapshot()
    this.connect()
    this.statusTimer = setInterval(() => {
      void this.loadStatus()
      // Health derived from data ages without a change to announce it.
      if (++this.ticks % 6 === 0) void this.refreshEntities()
    }, 5000)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearTimeout(this.refetchTimer)
    clearInterval(this.statusTimer)
    this.socket?.close()
    this.socket = undefined
  }

  /** Called with every measurement change (already coalesced by the core), for live charts. */
  onMeasurement(listener: (change: MeasurementChange) => void): () => void {
    this.measurementListeners.add(listener)
    return () => this.measurementListeners.delete(listener)
  }

  /** Called with the id of an entity whose registration, twin or health changed, for detail pages. */
  onEntityChange(listener: (entity: string) => void): () => void {
    this.entityListeners.add(listener)
    return () => this.entityListeners.delete(listener)
  }

  /** Called when an alarm changes; `previous` is the open alarm it replaces, if any. */
  onAlarm(listener: (alarm: AlarmView, previous: AlarmView | undefined) => void): () => void {
    this.alarmListeners.add(listener)
    return () => this.alarmListeners.delete(listener)
  }

  /** Called when a command changes state, for operation lists and timelines. */
  onOperation(listener: (operation: OperationView) => void): () => void {
    this.operationListeners.add(listener)
    return () => this.operationListeners.delete(listener)
  }

  /**
   * Changes whenever the desired properties of `entity`, or the device's answers to them, may have
   * changed: read it in an effect to fetch them again (one frame's changes make one refetch).
   */
  desiredRevision(entity: string): number {
    return this.resyncs + (this.desiredChanges.get(entity) ?? 0)
  }

  /** Like desiredRevision, for the sync conflicts of `entity`, or of every entity when none is given. */
  conflictRevision(entity?: string): number {
    return (
      this.resyncs +
      (entity === undefined ? this.anyConflictChanges : (this.conflictChanges.get(entity) ?? 0))
    )
  }

  /** Shows a fresher sync status (the Sync page polls more often), so the top bar agrees with it. */
  updateSync(status: SyncStatusView): void {
    this.sync = status
  }

  /**
   * Announces a changed command: from the stream, or from a request's or cancel's answer, so pages
   * show it before the stream echoes it.
   */
  updateOperation(operation: OperationView): void {
    for (const listener of this.operationListeners) listener(operation)
  }

  /**
   * Applies a changed alarm: from the stream, or from an acknowledge or clear answer, so the page
   * shows it before the stream echoes it (the echo then changes nothing).
   */
  updateAlarm(alarm: AlarmView): void {
    const previous = this.alarms.find((a) => a.id === alarm.id)
    const rest = this.alarms.filter((a) => a.id !== alarm.id)
    this.alarms = alarm.status === 'cleared' ? rest : [alarm, ...rest]
    for (const listener of this.alarmListeners) listener(alarm, previous)
  }

  children(id: string): EntitySummary[] {
    return [...this.entities.values()].filter((e) => e.parent === id)
  }

  alarmsOf(id: string): AlarmView[] {
    return this.alarms.filter((a) => a.entity === id)
  }

  private async snapshot(): Promise<void> {
    // The tree, its alarm badges and the banner need every entity and every open alarm: all pages.
    const [entities, alarms] = await Promise.all([
      api.entities(),
      api.allAlarms({ status: ['active', 'acknowledged'] }),
      this.loadStatus(),
    ])
    this.entities.clear()
    for (const entity of entities) this.entities.set(entity.id, entity)
    this.alarms = alarms
    const events = await api.events({ limit: RECENT_EVENTS })
    this.events = events.items.map(({ id, entity, type, time, text }) => ({ id, entity, type, time, text }))
  }

  private async loadStatus(): Promise<void> {
    const [status, sync] = await Promise.allSettled([api.status(), api.syncStatus()])
    // A failure is shown as disconnected by the socket state; the last known values stay.
    if (status.status === 'fulfilled') this.status = status.value
    if (sync.status === 'fulfilled') this.sync = sync.value
  }

  private connect(): void {
    if (this.stopped) return
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`
    const socket = new WebSocket(url)
    this.socket = socket
    this.connection = 'connecting'
    socket.onopen = () => {
      // Catch up on what happened while the stream was down.
      if (this.retries > 0) {
        void this.snapshot().catch(() => {})
        this.resyncs++
      }
      this.retries = 0
      this.connection = 'live'
      link.set(true)
    }
    socket.onmessage = (message) => this.receive(JSON.parse(String(message.data)) as StreamFrame)
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.connection = 'offline'
      link.set(false)
      if (this.stopped) return
      const delay = RETRY_MS[Math.min(this.retries++, RETRY_MS.length - 1)] as number
      this.retryTimer = setTimeout(() => this.connect(), delay)
    }
  }

  private receive(frame: StreamFrame): void {
    if (frame.type !== 'changes') return
    for (const change of frame.changes) this.apply(change)
  }

  private apply(change: StreamChange): void {
    if (change.kind === 'entity' || change.kind === 'twin' || change.kind === 'health')
      for (const listener of this.entityListeners) listener(change.entity)
    switch (change.kind) {
      case 'measurement':
        for (const [name, value] of Object.entries(change.values)) {
          this.latest.set(seriesKey(change.entity, change.type, name), { time: change.time, value })
        }
        for (const listener of this.measurementListeners) listener(change)
        return
      case 'event':
        this.events = [
          { id: change.id, entity: change.entity, type: change.type, time: change.time, text: change.text },
          ...this.events,
        ].slice(0, RECENT_EVENTS)
        return
      case 'alarm':
        this.updateAlarm(change.alarm)
        return
      case 'operation':
        this.updateOperation(change.operation)
        return
      case 'health': {
        // The core sends the derived status (up, down, stale, unknown); the refetch brings its reason,
        // and a service's health is also its device's when it is the device's endpoint.
        const entity = this.entities.get(change.entity)
        if (entity?.health)
          this.entities.set(entity.id, {
            ...entity,
            health: { ...entity.health, status: change.status as HealthStatus },
          })
        this.scheduleRefetch()
        return
      }
      case 'entity':
        if (change.op === 'delete') this.entities.delete(change.entity)
        else this.scheduleRefetch()
        return
      case 'twin':
        if (change.key === 'name') this.scheduleRefetch()
        // A device reports a desired property's value in effect as the fragment of that name.
        this.desiredChanges.set(change.entity, (this.desiredChanges.get(change.entity) ?? 0) + 1)
        return
      case 'desired':
        this.desiredChanges.set(change.entity, (this.desiredChanges.get(change.entity) ?? 0) + 1)
        return
      case 'conflict':
        this.conflictChanges.set(change.entity, (this.conflictChanges.get(change.entity) ?? 0) + 1)
        this.anyConflictChanges++
        return
    }
  }

  /** Entity summaries changed: fetch them again, a few at a time, shortly after. */
  private scheduleRefetch(): void {
    this.refetchTimer ??= setTimeout(() => {
      this.refetchTimer = undefined
      void this.refreshEntities()
    }, 300)
  }

  /**
   * Fetches the summaries again and replaces those that changed: a device's health follows its
   * services and its data, so one change can alter entities the stream did not name.
   */
  async refreshEntities(): Promise<void> {
    try {
      const entities = await api.entities()
      const seen = new Set<string>()
      for (const entity of entities) {
        seen.add(entity.id)
        const current = this.entities.get(entity.id)
        if (!current || JSON.stringify(current) !== JSON.stringify(entity))
          this.entities.set(entity.id, entity)
      }
      for (const id of this.entities.keys()) if (!seen.has(id)) this.entities.delete(id)
    } catch {
      // offline: the socket state shows it, and the next snapshot catches up
    }
  }
}
