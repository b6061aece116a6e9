// The UI phases (h–k) in the bench report: their table rows, sanity checks, details and method.
import type { Phase, Row, Status } from './report'
import type { FirstLoadConfig, FirstLoadResult } from './ui-first-load'
import type { LiveSeriesConfig, LiveSeriesResult } from './ui-live-series'
import type { TreeFilterConfig, TreeFilterResult } from './ui-tree-filter'

export interface UiConfig {
  firstLoad: FirstLoadConfig
  live: LiveSeriesConfig
  tree: TreeFilterConfig
}

/** (h) and (i) come from the same cold loads. */
export interface UiPhases {
  h: Phase<FirstLoadResult>
  j: Phase<LiveSeriesResult>
  k: Phase<TreeFilterResult>
}

/** Issue 3, "Performance". kB = 1,000 bytes. */
export const UI_TARGETS = {
  firstPaintMs: 1000,
  jsGzipBytes: 250_000,
  longTaskMs: 50,
  keystrokeMs: 50,
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`
const check = (ok: boolean): Status => (ok ? 'PASS' : 'FAIL')

export function uiRows(ui: UiConfig, { h, j, k }: UiPhases): Row[] {
  const out: Row[] = []
  const failed = (id: string, measure: string, target: string, phase: Phase<unknown>) => {
    if (!phase.skipped)
      out.push({ id, measure, result: `error: ${phase.error ?? 'not run'}`, target, status: 'ERROR' })
  }
  const paintTarget = `≤ ${int(UI_TARGETS.firstPaintMs)} ms`
  const jsTarget = `≤ ${kb(UI_TARGETS.jsGzipBytes)}`
  if (h.value) {
    const v = h.value
    out.push({
      id: 'h',
      measure: `UI: overview painted with live values, cold load, median of ${ui.firstLoad.runs} (max)`,
      result: `${ms(v.median)} (${ms(v.max)})`,
      target: paintTarget,
      status: check(v.median <= UI_TARGETS.firstPaintMs),
    })
    out.push({
      id: 'i',
      measure: 'UI: JS shipped for the first screen, gzip -9 (as served)',
      result: `${kb(v.js.gzipBytes)} (${kb(v.js.bytes)})`,
      target: jsTarget,
      status: check(v.js.gzipBytes <= UI_TARGETS.jsGzipBytes),
    })
  } else {
    failed('h', 'UI: overview painted with live values, cold load', paintTarget, h)
    failed('i', 'UI: JS shipped for the first screen, gzipped', jsTarget, h)
  }
  const live = ui.live
  const liveMeasure = `UI: ${live.series} live series at ${live.hz} Hz on one chart, long tasks > ${UI_TARGETS.longTaskMs} ms in ${live.seconds} s (longest)`
  if (j.value) {
    const v = j.value.live
    out.push({
      id: 'j',
      measure: liveMeasure,
      result: `${v.count} (${v.count ? ms(v.max) : '—'})`,
      target: 'none',
      status: check(v.count === 0),
    })
  } else failed('j', liveMeasure, 'none', j)
  const treeMeasure = `UI: filter a tree of ${int(ui.tree.entities)} entities, per keystroke median / max`
  const keyTarget = `≤ ${UI_TARGETS.keystrokeMs} ms`
  if (k.value) {
    out.push({
      id: 'k',
      measure: treeMeasure,
      result: `${ms(k.value.median)} / ${ms(k.value.max)}`,
      target: keyTarget,
      status: check(k.value.max <= UI_TARGETS.keystrokeMs),
    })
  } else failed('k', treeMeasure, keyTarget, k)
  return out
}

/** Evidence that the UI phases measured what they claim. */
export function uiSanityProblems(ui: UiConfig, { h, j, k }: UiPhases): string[] {
  const problems: string[] = []
  if (h.value && h.value.js.files === 0) problems.push('(i) the cold load fetched no JS')
  const live = j.value
  if (live) {
    const expected = live.seconds * ui.live.series * ui.live.hz
    if (Math.abs(live.published - expected) > expected * 0.05)
      problems.push(
        `(j) ${live.published} values published in ${live.seconds.toFixed(1)} s, expected ~${int(expected)}`,
      )
    if (live.streamedSeries < ui.live.series)
      problems.push(`(j) the stream brought ${live.streamedSeries} of ${ui.live.series} series to the page`)
    if (live.changedValues < ui.live.series)
      problems.push(`(j) only ${live.changedValues} of ${ui.live.series} live values changed on the page`)
  }
  const tree = k.value
  if (tree) {
    const typed = ui.tree.rounds * ui.tree.filter.length
    if (tree.keystrokes.length !== typed)
      problems.push(`(k) ${tree.keystrokes.length} of ${typed} keystrokes timed`)
    const expected = `${tree.expectedMatches} of ${tree.treeSize} match`
    if (tree.status !== expected)
      problems.push(`(k) the navigator said "${tree.status}", expected "${expected}"`)
    if (tree.treeSize < ui.tree.entities) problems.push(`(k) only ${tree.treeSize} entities in the tree`)
  }
  return problems
}

const list = (values: number[]) => values.map((n) => n.toFixed(0)).join(', ')

/** Rows of the Details table, without the "other load" column (the caller adds it). */
export function uiDetails(ui: UiConfig, { h, j, k }: UiPhases): Array<{ id: string; text: string }> {
  const out: Array<{ id: string; text: string }> = []
  if (h.value) {
    const v = h.value
    out.push({
      id: 'h, i',
      text: `${v.browser}; "${v.line}" with ${v.devices} device cards; runs ${list(v.runs)} ms; first contentful paint ${list(v.firstContentfulPaint)} ms; ${v.requests} requests per cold load; JS ${v.js.files} file(s), ${int(v.js.bytes)} B, ${int(v.js.gzipBytes)} B gzip -9; CSS ${v.css.files} file(s), ${int(v.css.bytes)} B, ${int(v.css.gzipBytes)} B gzip -9; served ${v.jsEncoding ? `with Content-Encoding ${v.jsEncoding}` : 'uncompressed'}`,
    })
  }
  if (j.value) {
    const v = j.value
    out.push({
      id: 'j',
      text: `${ui.live.historySeconds} s of history first; ${int(v.published)} values published in ${v.seconds.toFixed(1)} s (one series every ${(1000 / (ui.live.series * ui.live.hz)).toFixed(0)} ms); ${v.frames} stream frames received, carrying ${v.streamedSeries} series; ${v.changedValues} of ${ui.live.series} values in the series list changed (sampled every 2 s); long tasks ${v.live.count}, ${ms(v.live.total)} in total; ticking all ${ui.live.series} series: ${ms(v.selectMs)} until charted, ${v.selecting.count} long task${v.selecting.count === 1 ? '' : 's'}${v.selecting.count ? ` (longest ${ms(v.selecting.max)})` : ''}`,
    })
  }
  if (k.value) {
    const v = k.value
    out.push({
      id: 'k',
      text: `${int(ui.tree.entities)} child devices (${ui.tree.cells} cells, ${int(ui.tree.entities - ui.tree.cells)} machines in them), ${int(v.treeSize)} in the tree; "${ui.tree.filter}" typed ${ui.tree.rounds} times: ${list(v.keystrokes)} ms; then "${v.status}"; the overview held ${int(v.pageElements)} elements`,
    })
  }
  return out
}

export function uiMethod(ui: UiConfig): string[] {
  const { firstLoad, live, tree } = ui
  return [
    "- **UI phases** (h–k): Debian's Chromium, headless, driven by playwright-core (no GPU: software",
    '  rendering, as on this machine), 1280×800 in desktop mode, against `edgetwin serve` as a child',
    '  process. The browser context logs in once through a one-time login URL (`POST',
    '  /api/v1/login-codes`), so pages open with the HttpOnly session cookie set. Times are taken in the',
    '  page with `performance.now()`, whose origin is the navigation start.',
    `- **(h) First paint**: \`edgetwin serve\` with the simulated line, once every device has reported; then`,
    `  ${firstLoad.runs} times a new page with the HTTP cache cleared and disabled (CDP) opens \`/\`. A script installed`,
    "  before the app checks on every animation frame whether `<main>` shows the line's name as its",
    '  heading and a number on every device card; the figure is the time of the first such frame',
    '  (a rAF callback runs just before that frame is painted). Median of the runs.',
    '- **(i) JS shipped**: the bodies of every script response of the first cold load, until the network',
    '  is idle, each gzipped with zlib at level 9 as a compressing server would send it, summed; the size',
    '  as served is in brackets (the details say whether the core sent it compressed).',
    `- **(j) Live series**: one child device whose ${live.series} series (half °C, half bar: two axes) first get`,
    `  ${live.historySeconds} s of 1 Hz history, so the live range (the last 5 minutes) opens full; then each series gets`,
    `  ${live.hz} value a second from mqtt.js, one series every ${(1000 / (live.series * live.hz)).toFixed(0)} ms (as ${live.series} sensors would, not in one`,
    `  message). The entity page ticks the group's box (all ${live.series} series on the live chart); once the chart`,
    `  is drawn, long tasks (the Long Tasks API: tasks over 50 ms) are counted for ${live.seconds} s.`,
    `- **(k) Tree filter**: ${int(tree.entities)} child devices registered over MQTT (${tree.cells} cells under the main`,
    `  device, the rest machines in them, named like "Sensor 07-123"); the overview's navigator filter gets`,
    `  "${tree.filter}" typed one key at a time, ${tree.rounds} times (cleared in between). Each keystroke is timed in`,
    "  the page from its `input` event (a capturing listener, before the app's) to a `setTimeout(0)`",
    '  queued from the next `requestAnimationFrame`, i.e. until the frame showing the filtered tree has',
    '  been produced; the next key is pressed only after that. Pass: every keystroke within the target.',
  ]
}
