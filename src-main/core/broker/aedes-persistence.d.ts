// aedes-persistence ships types for its package root only; these cover the subpaths EdgeTwin imports.
// The shapes are the structural minimum the memory implementation reads, so tests can pass plain objects.

declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream'

  /** A packet as aedes hands it to the persistence; aedes-packet fields plus whatever mqtt-packet parsed. */
  export interface PersistencePacket {
    cmd?: string
    topic?: string
    payload?: Buffer | string
    qos?: number
    retain?: boolean
    dup?: boolean
    messageId?: number
    brokerId?: string
    brokerCounter?: number
    clientId?: string
    properties?: Record<string, unknown>
    [field: string]: unknown
  }

  export interface PersistenceClient {
    id: string
  }

  export interface PersistenceBroker {
    id: string
  }

  export interface PersistenceSubscription {
    topic: string
    qos: number
    rh?: number
    rap?: boolean
    nl?: boolean
    subscriptionIdentifier?: number
  }

  class MemoryPersistence {
    static Packet: new (
      original: PersistencePacket,
      broker?: { id: string; counter: number },
    ) => PersistencePacket
    constructor(opts?: { broadcastSubscriptions?: boolean })
    get broker(): PersistenceBroker
    setup(broker: PersistenceBroker): Promise<void>
    storeRetained(packet: PersistencePacket): Promise<void>
    createRetainedStream(pattern: string): Readable
    createRetainedStreamCombi(patterns: string[]): Readable
    addSubscriptions(client: PersistenceClient, subs: PersistenceSubscription[]): Promise<void>
    removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<void>
    subscriptionsByClient(client: PersistenceClient): Promise<PersistenceSubscription[]>
    countOffline(): Promise<{ subsCount: number; clientsCount: number }>
    subscriptionsByTopic(pattern: string): Promise<(PersistenceSubscription & { clientId: string })[]>
    cleanSubscriptions(client: PersistenceClient): Promise<void>
    outgoingEnqueue(sub: { clientId: string }, packet: PersistencePacket): Promise<void>
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: PersistencePacket): Promise<void>
    outgoingUpdate(client: PersistenceClient, packet: PersistencePacket): Promise<void>
    outgoingClearMessageId(
      client: PersistenceClient,
      packet: PersistencePacket,
    ): Promise<PersistencePacket | undefined>
    outgoingStream(client: PersistenceClient): Readable
    incomingStorePacket(client: PersistenceClient, packet: PersistencePacket): Promise<void>
    incomingGetPacket(client: PersistenceClient, packet: PersistencePacket): Promise<PersistencePacket>
    incomingDelPacket(client: PersistenceClient, packet: PersistencePacket): Promise<void>
    cleanIncoming(client: PersistenceClient): Promise<void>
    putWill(client: PersistenceClient, packet: PersistencePacket): Promise<void>
    getWill(client: PersistenceClient): Promise<PersistencePacket | undefined>
    delWill(client: PersistenceClient): Promise<PersistencePacket | undefined>
    streamWill(brokers?: Record<string, number>): Readable
    getClientList(topic: string): Readable
    destroy(): Promise<void>
  }

  export default MemoryPersistence
}

declare module 'aedes-persistence/callBackPersistence.js' {
  import type { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'
  import type MemoryPersistence from 'aedes-persistence/asyncPersistence.js'
  import type { PersistenceBroker } from 'aedes-persistence/asyncPersistence.js'

  /** The adapter aedes' own default persistence uses: callback style when given a callback, else promises. */
  export class CallBackPersistence<
    Options = Record<string, unknown>,
    Instance extends MemoryPersistence = MemoryPersistence,
  > extends EventEmitter {
    constructor(asyncInstanceFactory: (opts: Options) => Instance, opts?: Options)
    readonly asyncPersistence: Instance
    get broker(): PersistenceBroker
    setup(broker: PersistenceBroker): Promise<void>
    createRetainedStream(pattern: string): Readable
    createRetainedStreamCombi(patterns: string[]): Readable
    outgoingStream(client: { id: string }): Readable
    destroy(): Promise<void>
  }
}

declare module 'aedes-persistence/abstract.js' {
  interface AbstractTestContext {
    plan(count: number): void
    diagnostic(message: string): void
    assert: Record<string, (...args: never[]) => unknown>
  }

  interface AbstractSuiteOptions {
    test: (name: string, body: (t: AbstractTestContext) => Promise<void>) => void
    persistence: () => unknown
    testAsync?: boolean
    waitForReady?: boolean
  }

  export type { AbstractTestContext }
  export default function abstractPersistence(opts: AbstractSuiteOptions): void
}

declare module 'qlobber' {
  export interface QlobberOptions {
    separator?: string
    wildcard_one?: string
    wildcard_some?: string
    match_empty_levels?: boolean
  }
  export class QlobberTrue {
    constructor(options?: QlobberOptions)
    add(topic: string): this
    test(topic: string): boolean
  }
}

declare module 'qlobber/aedes/qlobber-sub.js' {
  import type { QlobberOptions } from 'qlobber'

  interface Subscription {
    clientId: string
    topic: string
    qos?: number
    rh?: number
    rap?: boolean
    nl?: boolean
  }
  export default class QlobberSub {
    constructor(options?: QlobberOptions)
    add(topic: string, sub: Subscription): this
    remove(topic: string, sub: Pick<Subscription, 'clientId' | 'topic'>): this
    match(topic: string): Subscription[]
  }
}
