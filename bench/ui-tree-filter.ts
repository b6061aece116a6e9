import mqtt, { type MqttClient } from 'mqtt'
import type { Browser, BrowserContext } from 'playwright-core'
import { Api } from './api'
import { removeDir, spawnCore, tempDir, waitFor } from './processes'
import { loggedInContext, summarize } from './ui-browser'

export interface TreeFilterConfig {
  /** Child devices registered: cells under the main device, machines under the cells. */
  entities: number
  cells: number
  /** Typed one key at a time. */
  filter: string
  /** Times the filter is typed (cleared in between); every keystroke counts. */
  rounds: number
  clients: number
}

export interface TreeFilterResult {
  /** Input event → the frame after the tree re-rendered, per keystroke in typing order, ms. */
  keystrokes: number[]
  median: number
  max: number
  /** The navigator's count after the full filter, e.g. "244 of 1002 match". */
  status: string
  /** Entities the filter should match, from the generated names. */
  expectedMatches: number
  /** Entities in the tree (the registered ones, the main device and its service). */
  treeSize: number
  /** Elements in the overview page once it shows the tree, before filtering: what stays light. */
  pageElements: number
}

const KINDS = ['Pump', 'Valve', 'Motor', 'Sensor', 'Drive', 'Scale', 'Heater', 'Camera']

/** Registration messages, parents before children: `cells` cells, the rest machines spread over them. */
function plant(config: TreeFilterConfig): Array<{ id: string; body: Record<string, string> }> {
  const pad = (n: number) => String(n).padStart(2, '0')
  const out: Array<{ id: string; body: Record<string, string> }> = []
  for (let c = 1; c <= config.cells; c++)
    out.push({ id: `device/cell-${pad(c)}//`, body: { '@type': 'child-device', name: `Cell ${pad(c)}` } })
  for (let m = 0; m < config.entities - config.cells; m++) {
    const cell = (m % config.cells) + 1
    const kind = KINDS[m % KINDS.length] as string
    out.push({
      id: `device/cell-${pad(cell)}-m${m}//`,
      body: {
        '@type': 'child-device',
        '@parent': `device/cell-${pad(cell)}//`,
        name: `${kind} ${pad(cell)}-${String(m).padStart(3, '0')}`,
      },
    })
  }
  return out
}

/** The page-side globals the functions below use; this tsconfig has no DOM lib. */
interface PageInput {
  value: string
}
interface PageDocument {
  querySelector(selector: string): PageInput | null
  querySelectorAll(selector: string): { length: number }
}
declare const document: PageDocument
declare function requestAnimationFrame(callback: () => void): number
declare function addEventListener(
  type: string,
  listener: (event: { target: unknown }) => void,
  options: { capture: boolean },
): void
interface KeystrokeGlobals {
  edgetwinKeystrokes?: Array<{ value: string; ms: number }>
}

/**
 * In the page: for each input event on the navigator's filter, the time from the event (captured
 * before the app's own listener) to the frame after the one that renders the update: a rAF callback
 * runs just before the next frame is produced, a task queued from it runs after that frame.
 */
function timeKeystrokes(): void {
  const globals = globalThis as KeystrokeGlobals
  globals.edgetwinKeystrokes = []
  const input = document.querySelector('input[type="search"]')
  addEventListener(
    'input',
    (event) => {
      if (event.target !== input || !input) return
      const start = performance.now()
      const value = input.value
      requestAnimationFrame(() =>
        setTimeout(() => globals.edgetwinKeystrokes?.push({ value, ms: performance.now() - start }), 0),
      )
    },
    { capture: true },
  )
}

/**
 * (k) The navigator with 1,000 registered child devices: the filter typed one key at a time; each
 * keystroke timed in the page from its input event to the next frame after the tree re-rendered.
 */
export async function treeFilter(browser: Browser, config: TreeFilterConfig): Promise<TreeFilterResult> {
  const dataDir = tempDir('ui-tree')
  const core = await spawnCore(dataDir)
  const clients: MqttClient[] = []
  // Closed whatever happens: the browser is shared with the next phase.
  let context: BrowserContext | undefined
  try {
    const api = new Api(core.ready)
    const before = await api.status()
    for (let c = 0; c < config.clients; c++)
      clients.push(
        await mqtt.connectAsync(core.ready.mqtt, { clientId: `bench-ui-tree-${c}`, reconnectPeriod: 0 }),
      )
    const messages = plant(config)
    // Cells first, so every machine's parent is known when it registers.
    for (const group of [messages.slice(0, config.cells), messages.slice(config.cells)]) {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = c; i < group.length; i += clients.length) {
            const { id, body } = group[i] as (typeof group)[number]
            await client.publishAsync(`te/${id}`, JSON.stringify(body), { qos: 1, retain: true })
          }
        }),
      )
    }
    await waitFor(
      `${config.entities} entities registered`,
      async () => ((await api.status()).entities >= before.entities + config.entities ? true : undefined),
      60_000,
      50,
    )
    const treeSize = (await api.status()).entities
    const expectedMatches = messages.filter((m) =>
      `${m.body.name}\nchild-device`.toLowerCase().includes(config.filter.toLowerCase()),
    ).length

    context = await loggedInContext(browser, core.ready)
    const page = await context.newPage()
    await page.goto(new URL('/', core.ready.http).href)
    const filter = page.getByRole('searchbox', { name: 'Filter equipment by name or type' })
    await page.getByRole('treeitem', { name: /^Cell 01,/ }).waitFor()
    await page.getByRole('main').getByRole('article', { name: 'Cell 01' }).waitFor()
    const pageElements = await page.evaluate(() => document.querySelectorAll('*').length)
    await page.evaluate(timeKeystrokes)
    const count = page.getByRole('navigation', { name: 'Equipment' }).getByRole('status')
    const read = () => page.evaluate(() => (globalThis as KeystrokeGlobals).edgetwinKeystrokes ?? [])

    // One keystroke at a time: the next key only once the last one's frame has been timed.
    const timed = (entries: Array<{ value: string }>) => entries.filter((k) => k.value !== '').length
    let status = ''
    for (let round = 0; round < config.rounds; round++) {
      await filter.click()
      for (const key of config.filter) {
        const done = timed(await read())
        await page.keyboard.press(key)
        await page.waitForFunction(
          (n) =>
            ((globalThis as KeystrokeGlobals).edgetwinKeystrokes ?? []).filter((k) => k.value !== '').length >
            n,
          done,
        )
      }
      status = (await count.textContent())?.trim() ?? ''
      await filter.fill('')
      await page.waitForFunction(
        () => (globalThis as KeystrokeGlobals).edgetwinKeystrokes?.at(-1)?.value === '',
      )
      await page.getByRole('treeitem', { name: /^Cell 01,/ }).waitFor()
    }
    const keystrokes = (await read()).filter((k) => k.value !== '').map((k) => k.ms)
    return { keystrokes, ...summarize(keystrokes), status, expectedMatches, treeSize, pageElements }
  } finally {
    await context?.close()
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await core.stop()
    removeDir(dataDir)
  }
}
