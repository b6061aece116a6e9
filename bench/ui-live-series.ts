import mqtt, { type MqttClient } from 'mqtt'
import type { Browser, BrowserContext } from 'playwright-core'
import { Api } from './api'
import { removeDir, sleep, spawnCore, tempDir, waitFor } from './processes'
import { loggedInContext } from './ui-browser'

export interface LiveSeriesConfig {
  series: number
  /** Values per second of each series. */
  hz: number
  /** How long long tasks are recorded once every series is on the chart, s. */
  seconds: number
  /** History published first, so the live range (the last 5 minutes) opens full, s. */
  historySeconds: number
}

export interface LongTasks {
  count: number
  /** ms; 0 when there were none. */
  max: number
  total: number
}

export interface LiveSeriesResult {
  /** Long tasks (> 50 ms, the Long Tasks API's threshold) while the chart ran live. */
  live: LongTasks
  /** Long tasks from ticking "all series" until the chart showed them (loading, not the target). */
  selecting: LongTasks
  /** From the click on "all series" to the chart's label naming all of them, ms. */
  selectMs: number
  /** Series the chart showed. */
  charted: number
  /** Stream frames the page received while recording. */
  frames: number
  /** Series of the device whose values arrived in those frames. */
  streamedSeries: number
  /** Values published while recording. */
  published: number
  /** Values in the series list that changed between two of the samples taken while recording. */
  changedValues: number
  seconds: number
}

const DEVICE = 'device/ui-bench//'
const TYPE = 'sensors'
const NAME = 'UI bench device'

/** Half the series are temperatures, half pressures: two units, two y axes, as a real device has. */
const seriesNames = (count: number) =>
  Array.from({ length: count }, (_, i) => (i < count / 2 ? `t${i + 1}` : `p${i + 1}`))
const unitOf = (name: string) => (name.startsWith('t') ? '°C' : 'bar')
/** A slow wave per series around its own level, so lines neither overlap nor sit flat. */
function reading(index: number, seconds: number, count: number): number {
  const wave = Math.sin(seconds / 30 + index)
  const value = index < count / 2 ? 20 + index + 5 * wave : 1 + (index - count / 2) * 0.2 + 0.5 * wave
  return Math.round(value * 100) / 100
}

/** The page's PerformanceObserver, which knows the `longtask` entry type (Node's types do not). */
declare const PerformanceObserver: new (
  callback: (list: { getEntries(): Array<{ startTime: number; duration: number }> }) => void,
) => { observe(options: { type: string; buffered: boolean }): void }

interface LongTaskGlobals {
  edgetwinLongTasks?: Array<{ start: number; duration: number }>
}

/** Installed before the app's script: every long task of the page, as the Long Tasks API reports it. */
function recordLongTasks(): void {
  const globals = globalThis as LongTaskGlobals
  globals.edgetwinLongTasks = []
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      globals.edgetwinLongTasks?.push({ start: entry.startTime, duration: entry.duration })
  }).observe({ type: 'longtask', buffered: true })
}

function longTasksBetween(
  tasks: Array<{ start: number; duration: number }>,
  from: number,
  to: number,
): LongTasks {
  const within = tasks.filter((t) => t.start >= from && t.start < to)
  return {
    count: within.length,
    max: Math.max(0, ...within.map((t) => t.duration)),
    total: within.reduce((sum, t) => sum + t.duration, 0),
  }
}

/**
 * (j) One device with N series at 1 Hz each, published one value at a time spread evenly over each
 * second (as N sensors would), after a history that fills the live range; its entity page with every
 * series on the live chart; long tasks recorded for a while.
 */
export async function liveSeries(browser: Browser, config: LiveSeriesConfig): Promise<LiveSeriesResult> {
  const dataDir = tempDir('ui-live')
  const core = await spawnCore(dataDir)
  let client: MqttClient | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  // Closed whatever happens: the browser is shared with the next phase.
  let context: BrowserContext | undefined
  try {
    const api = new Api(core.ready)
    const names = seriesNames(config.series)
    client = await mqtt.connectAsync(core.ready.mqtt, { clientId: 'bench-ui-live', reconnectPeriod: 0 })
    const publisher = client
    await publisher.publishAsync(`te/${DEVICE}`, JSON.stringify({ '@type': 'child-device', name: NAME }), {
      qos: 1,
      retain: true,
    })
    const meta = Object.fromEntries(names.map((name) => [name, { unit: unitOf(name) }]))
    await publisher.publishAsync(`te/${DEVICE}/m/${TYPE}/meta`, JSON.stringify(meta), {
      qos: 1,
      retain: true,
    })

    const before = await api.status()
    const now = Date.now() / 1000
    for (let s = config.historySeconds; s > 0; s--) {
      const time = now - s
      const body = Object.fromEntries(names.map((name, i) => [name, reading(i, time, names.length)]))
      publisher.publish(`te/${DEVICE}/m/${TYPE}`, JSON.stringify({ ...body, time }))
    }
    const history = config.historySeconds * config.series
    await waitFor(
      `${history} history values stored`,
      async () => {
        const status = await api.status()
        return status.ingest.values >= before.ingest.values + history && status.ingest.pendingWrites === 0
          ? true
          : undefined
      },
      30_000,
      50,
    )

    // Live: one series per tick, so each series gets `hz` values a second at its own phase.
    let published = 0
    let next = 0
    timer = setInterval(
      () => {
        const index = next++ % names.length
        const name = names[index] as string
        publisher.publish(
          `te/${DEVICE}/m/${TYPE}`,
          JSON.stringify({ [name]: reading(index, Date.now() / 1000, names.length) }),
        )
        published++
      },
      1000 / (config.series * config.hz),
    )

    context = await loggedInContext(browser, core.ready)
    await context.addInitScript(recordLongTasks)
    const page = await context.newPage()
    let frames = 0
    let recording = false
    const streamed = new Set<string>()
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        if (!recording) return
        frames++
        const frame = JSON.parse(String(payload)) as {
          changes?: Array<{ kind: string; entity?: string; values?: Record<string, number> }>
        }
        for (const change of frame.changes ?? [])
          if (change.kind === 'measurement' && change.entity === DEVICE)
            for (const name of Object.keys(change.values ?? {})) streamed.add(name)
      }),
    )
    await page.goto(new URL(`/#/entity/${encodeURIComponent(DEVICE)}`, core.ready.http).href)
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor()
    // The group's box reads the type as a label ("Sensors (50)").
    const all = page.getByRole('checkbox', { name: new RegExp(`^${TYPE} \\(${config.series}\\)$`, 'i') })
    const now0 = () => page.evaluate(() => performance.now())
    const clicked = await now0()
    await all.check()
    const chart = page.getByRole('img', {
      name: new RegExp(`^Chart of ${config.series} series of ${NAME}, live`),
    })
    await chart.waitFor()
    await page
      .getByRole('status')
      .filter({ hasText: /^Showing live/ })
      .waitFor()
    const start = await now0()
    const valueTexts = () =>
      page
        .getByRole('checkbox')
        .evaluateAll((boxes) => boxes.map((box) => box.closest('label')?.textContent?.trim() ?? ''))
    const publishedBefore = published
    recording = true
    // The series list sampled every 2 s: a value counts as live once it differs from the last sample.
    const changed = new Set<number>()
    let last = await valueTexts()
    for (let t = 0; t < config.seconds; t += 2) {
      await sleep(2000)
      const now = await valueTexts()
      now.forEach((text, i) => {
        if (text !== last[i]) changed.add(i)
      })
      last = now
    }
    recording = false
    const end = await now0()
    const publishedDuring = published - publishedBefore
    const tasks = await page.evaluate(() => (globalThis as LongTaskGlobals).edgetwinLongTasks ?? [])
    return {
      live: longTasksBetween(tasks, start, end),
      selecting: longTasksBetween(tasks, clicked, start),
      selectMs: start - clicked,
      charted: config.series,
      frames,
      streamedSeries: streamed.size,
      published: publishedDuring,
      changedValues: changed.size,
      seconds: (end - start) / 1000,
    }
  } finally {
    await context?.close()
    clearInterval(timer)
    await client?.endAsync(true)
    await core.stop()
    removeDir(dataDir)
  }
}
