// The last minutes of one series, for a sparkline next to its value: the history is asked for once
// (downsampled to a few points by the core), then the live values from the stream are appended.
import { untrack } from 'svelte'
import { api, type SeriesView } from './api'
import { seriesKey, type Twin } from './twin.svelte'

/** How far back a sparkline reaches, ms. */
export const SPARKLINE_WINDOW_MS = 10 * 60_000
/** Buckets asked for: about one per 10 s of the window, enough for a line 100 px wide. */
const HISTORY_POINTS = 60

export type Point = [time: number, value: number]

/**
 * History requests in flight at once: a browser opens about six connections to the core, and the
 * cards' own details (their values) must not queue behind sparklines.
 */
const CONCURRENT = 2
let running = 0
const waiting: Array<() => void> = []

function queued<T>(task: () => Promise<T>): Promise<T> {
  // A finished request hands its slot to the next one waiting, so the count stays exact.
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
  const run = () => task().finally(release)
  if (running < CONCURRENT) {
    running++
    return run()
  }
  return new Promise<void>((resolve) => waiting.push(resolve)).then(run)
}

/**
 * Call during component initialisation: the fetch lives as long as the component, and runs again
 * only when the series' id changes.
 */
export function recentValues(options: () => { twin: Twin; entity: string; series: SeriesView }): {
  readonly points: Point[]
} {
  const twin = $derived(options().twin)
  const key = $derived(seriesKey(options().entity, options().series.type, options().series.name))
  const id = $derived(options().series.id)
  let points = $state.raw<Point[]>([])

  $effect(() => {
    const series = id
    let stopped = false
    queued(() => {
      if (stopped) return Promise.resolve(undefined)
      const to = Date.now()
      return api.series(series, to - SPARKLINE_WINDOW_MS, to, HISTORY_POINTS)
    }).then(
      (answer) => {
        if (stopped || !answer) return
        const history = answer.points.map((p): Point => [p.time, p.avg])
        // Live values that arrived while the history was on its way stay after it.
        const last = history.at(-1)?.[0] ?? 0
        points = [...history, ...points.filter(([time]) => time > last)]
      },
      () => {}, // no line; the value itself is still shown
    )
    return () => {
      stopped = true
    }
  })

  $effect(() => {
    const latest = twin.latest.get(key)
    if (!latest) return
    const known = untrack(() => points)
    const last = known.at(-1)
    if (last && last[0] >= latest.time) return
    const from = latest.time - SPARKLINE_WINDOW_MS
    points = [...known.filter(([time]) => time >= from), [latest.time, latest.value]]
  })

  return {
    get points() {
      return points
    },
  }
}
