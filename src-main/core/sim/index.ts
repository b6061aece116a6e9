import { randomUUID } from 'node:crypto'
import { LineConnector } from './connector'
import { lineIsLiveElsewhere } from './live-line'
import { LoadGenerator } from './load'
import { type SimLogger, type SimStats, silentLogger } from './logger'
import { randomSeed } from './prng'

export type { SimLogger } from './logger'

export interface SimulatorOptions {
  /** Broker URL, `mqtt://host:port`. */
  url: string
  /** Same seed ⇒ same sequence of published values, events and alarms. Default: random (logged). */
  seed?: number
  /** Load mode: extra flat child devices `device/load-0001//` … under main. Default 0. */
  devices?: number
  /** Load mode: measurement messages per second per device. Default 1. */
  rate?: number
  /** thin-edge.io `mqtt.topic_root`. Default `te`. */
  topicRoot?: string
  /** Wall-clock milliseconds per physics step; each step is one simulated second. Default 1000. */
  tickMs?: number
  /**
   * Probability (0..1) that an operation on a child device fails with a realistic fault at a realistic
   * step (drawn from the seeded sequence, so a run is reproducible). Default 0: only natural failures
   * (invalid configuration, unknown package, …).
   */
  faultRate?: number
  logger?: SimLogger
}

export interface Simulator {
  start(): Promise<void>
  stop(): Promise<void>
  readonly stats: { published: number }
  /**
   * Whether this instance runs the filling line: not when another simulator's line is live on the
   * broker (then it runs only its load devices). Known once started.
   */
  readonly runsLine: boolean
}

/** How long a stop waits for a start still under way, in ms. */
const START_WAIT_MS = 2000

class MqttSimulator implements Simulator {
  readonly stats: SimStats = { published: 0 }
  runsLine = false
  private line: LineConnector | undefined
  private load: LoadGenerator | undefined
  private starting: Promise<void> | undefined
  /** Counts stops, so a start that a stop overtook starts nothing. */
  private generation = 0

  constructor(private readonly options: SimulatorOptions) {}

  async start(): Promise<void> {
    if (this.starting || this.line || this.load) throw new Error('simulator already started')
    const { url, devices = 0, rate = 1, topicRoot: root = 'te', tickMs = 1000, faultRate = 0 } = this.options
    const logger = this.options.logger ?? silentLogger
    const seed = (this.options.seed ?? randomSeed()) >>> 0
    const clientPrefix = `edgetwin-sim-${randomUUID().slice(0, 8)}`
    const common = { url, root, seed, clientPrefix, logger, stats: this.stats }
    const generation = this.generation
    const starting = (async () => {
      // The line's ids are fixed: a second line would take over the first one's entities, and its
      // `down`s at exit would mark that live line's services down. It stays with what it creates.
      const elsewhere = await lineIsLiveElsewhere(url, root, `${clientPrefix}-probe`)
      if (elsewhere) {
        logger.info(
          { url },
          'a simulated filling line is already running on this broker: this simulator publishes only its load devices',
        )
      }
      // Stopped while probing: start nothing.
      if (this.generation !== generation) return
      const line = elsewhere ? undefined : new LineConnector({ ...common, tickMs, faultRate })
      const load = devices > 0 ? new LoadGenerator({ ...common, devices, rate }) : undefined
      this.line = line
      this.load = load
      this.runsLine = line !== undefined
      try {
        await line?.start()
        await load?.start()
      } catch (err) {
        await Promise.allSettled([line?.stop(), load?.stop()])
        this.line = undefined
        this.load = undefined
        throw err
      }
    })()
    this.starting = starting
    try {
      await starting
    } catch (err) {
      if (this.starting === starting) this.starting = undefined
      throw err
    }
    logger.info({ url, seed, devices, rate, tickMs, faultRate, line: this.runsLine }, 'simulator started')
  }

  async stop(): Promise<void> {
    // A stop during start waits for the start to settle, so no client is left connecting; but not
    // for ever: a core refusing data (its disk full) holds the registrations' PUBACKs, and closing
    // the clients is what ends that wait.
    const starting = this.starting?.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    await Promise.race([starting, new Promise((resolve) => (timer = setTimeout(resolve, START_WAIT_MS)))])
    clearTimeout(timer)
    this.starting = undefined
    this.generation++
    const { line, load } = this
    this.line = undefined
    this.load = undefined
    await Promise.allSettled([line?.stop(), load?.stop()])
  }
}

function validate(options: SimulatorOptions): void {
  const { devices = 0, rate = 1, tickMs = 1000, faultRate = 0, seed } = options
  if (!/^(mqtts?|tcp|ssl|wss?):\/\//.test(options.url)) {
    throw new Error(`simulator: invalid broker URL "${options.url}"`)
  }
  if (!Number.isInteger(devices) || devices < 0) {
    throw new Error('simulator: devices must be a whole number ≥ 0')
  }
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error('simulator: rate must be a positive number')
  if (!(tickMs >= 1) || !Number.isFinite(tickMs)) throw new Error('simulator: tickMs must be ≥ 1')
  if (seed !== undefined && !Number.isFinite(seed)) throw new Error('simulator: seed must be a number')
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error('simulator: faultRate must be between 0 and 1')
}

/** The built-in simulated filling line (and optional load devices), a thin-edge.io MQTT client only. */
export function createSimulator(options: SimulatorOptions): Simulator {
  validate(options)
  return new MqttSimulator(options)
}
