import { gzipSync } from 'node:zlib'
import type { Browser, BrowserContext, Response } from 'playwright-core'
import { Api, type SeriesInfo } from './api'
import { removeDir, spawnCore, tempDir, waitFor } from './processes'
import { loggedInContext, summarize } from './ui-browser'

export interface FirstLoadConfig {
  /** Cold loads timed; the median is the figure. */
  runs: number
}

export interface Shipped {
  files: number
  /** Bytes as served. */
  bytes: number
  /** Each file gzipped at level 9, summed: what a compressing server would send. */
  gzipBytes: number
}

export interface FirstLoadResult {
  /** Navigation start → the first frame showing the line and a value on every device card, ms. */
  runs: number[]
  median: number
  max: number
  /** First contentful paint of each run (the app's first text), ms. */
  firstContentfulPaint: number[]
  line: string
  devices: number
  /** Requests of one cold load until the network is idle (the stream's WebSocket not counted). */
  requests: number
  js: Shipped
  css: Shipped
  /** Content-Encoding of the JS as the core serves it ('' = none). */
  jsEncoding: string
  /** The browser measured with, e.g. "Chromium 143.0.7499.169". */
  browser: string
}

/** The page-side globals the functions below use; this tsconfig has no DOM lib. */
interface PageNode {
  textContent: string | null
  querySelector(selector: string): PageNode | null
  querySelectorAll(selector: string): ArrayLike<PageNode>
}
declare const document: PageNode
declare function requestAnimationFrame(callback: () => void): number
interface ReadyGlobals {
  edgetwinOverviewReady?: number
}

/**
 * Installed before the app's own script: checks every animation frame whether the overview shows
 * the line's name and a number on every device card, and keeps the time of the first frame that
 * does (rAF callbacks run just before that frame is painted).
 */
function watchOverview({ line, devices }: { line: string; devices: number }): void {
  const globals = globalThis as ReadyGlobals
  const check = () => {
    const main = document.querySelector('main')
    const title = main?.querySelector('h1')?.textContent?.trim()
    let live = 0
    if (main && title === line) {
      const cards = main.querySelectorAll('article')
      for (let i = 0; i < cards.length; i++)
        if (/\d/.test(cards[i]?.querySelector('dd')?.textContent ?? '')) live++
    }
    if (live >= devices) globals.edgetwinOverviewReady = performance.now()
    else requestAnimationFrame(check)
  }
  requestAnimationFrame(check)
}

/**
 * (h) First meaningful paint of the overview from a cold load, and (i) the JS it needs: `edgetwin
 * serve` with the simulated line; a browser context logged in once; then, per run, a new page with
 * the HTTP cache cleared and disabled opening `/`.
 */
export async function firstLoad(browser: Browser, config: FirstLoadConfig): Promise<FirstLoadResult> {
  const dataDir = tempDir('ui-load')
  const core = await spawnCore(dataDir, { sim: true })
  // Closed whatever happens: the browser is shared with the next phase.
  let context: BrowserContext | undefined
  try {
    const api = new Api(core.ready)
    // The simulated line registers and sends its first values within a few seconds of the start.
    const { line, devices } = await waitFor(
      'the simulated line with a value from every device',
      async () => {
        const entities =
          await api.get<Array<{ id: string; type: string; name: string; parent: string | null }>>(
            '/api/v1/entities',
          )
        const main = entities.find((e) => e.type === 'device' && e.parent === null)
        const children = entities.filter((e) => e.type === 'child-device')
        if (!main || children.length === 0) return undefined
        const series = await Promise.all(children.map((c) => api.seriesOf(c.id)))
        const reporting = (list: SeriesInfo[]) => list.some((s) => s.lastValue !== null)
        return series.every(reporting) ? { line: main.name, devices: children.length } : undefined
      },
      30_000,
      250,
    )
    context = await loggedInContext(browser, core.ready)
    await context.addInitScript(watchOverview, { line, devices })

    const runs: number[] = []
    const firstContentfulPaint: number[] = []
    let shipped: Pick<FirstLoadResult, 'requests' | 'js' | 'css' | 'jsEncoding'> | undefined
    for (let run = 0; run < config.runs; run++) {
      const page = await context.newPage()
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.clearBrowserCache')
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
      const responses: Response[] = []
      page.on('response', (response) => responses.push(response))
      await page.goto(new URL('/', core.ready.http).href, { waitUntil: 'commit' })
      const ready = await page.waitForFunction(
        () => (globalThis as ReadyGlobals).edgetwinOverviewReady,
        null,
        {
          timeout: 20_000,
        },
      )
      runs.push((await ready.jsonValue()) as number)
      firstContentfulPaint.push(
        await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1),
      )
      if (run === 0) {
        await page.waitForLoadState('networkidle')
        shipped = await measureShipped(responses)
      }
      await cdp.detach()
      await page.close()
    }
    if (!shipped) throw new Error('no load measured')
    return {
      runs,
      ...summarize(runs),
      firstContentfulPaint,
      line,
      devices,
      ...shipped,
      browser: `Chromium ${browser.version()}`,
    }
  } finally {
    await context?.close()
    await core.stop()
    removeDir(dataDir)
  }
}

async function measureShipped(
  responses: Response[],
): Promise<Pick<FirstLoadResult, 'requests' | 'js' | 'css' | 'jsEncoding'>> {
  const sum = async (type: string): Promise<Shipped & { encodings: string[] }> => {
    const files = responses.filter((r) => r.request().resourceType() === type && r.ok())
    const bodies = await Promise.all(files.map((r) => r.body()))
    return {
      files: files.length,
      bytes: bodies.reduce((n, body) => n + body.length, 0),
      gzipBytes: bodies.reduce((n, body) => n + gzipSync(body, { level: 9 }).length, 0),
      encodings: files.map((r) => r.headers()['content-encoding'] ?? ''),
    }
  }
  const { encodings, ...js } = await sum('script')
  const { encodings: _, ...css } = await sum('stylesheet')
  return { requests: responses.length, js, css, jsEncoding: [...new Set(encodings)].join(', ') }
}
