// A web page the logged-in operator happens to open tries to act on EdgeTwin through the browser:
// from another port of 127.0.0.1 (same site: the session cookie goes along) and from
// http://localhost:<port> (another site), with body-less POSTs (no CORS preflight) and the live
// stream, spelled plainly and percent-encoded; and a page whose DNS name was re-pointed at the
// core. Everything is refused and nothing changes, while the operator's own page keeps working.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import mqtt from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AlarmView, AuditEntryView } from '../../src-main/core/api/types'
import { launchChromium } from '../helpers/chromium'
import { connection, loginUrl, type Served, serve, shot } from './harness'

/** The attacking page: what any site can do without reading an answer. */
const ATTACK_PAGE = `<!doctype html><title>Totally unrelated</title><iframe name="sink"></iframe><script>
(async () => {
  const q = new URLSearchParams(location.search)
  const core = q.get('core')
  const alarm = q.get('alarm')
  const posts = ['/api/v1/alarms/' + alarm + '/acknowledge', '/%61pi/v1/alarms/' + alarm + '/acknowledge',
    '/api/v1/alarms/' + alarm + '/clear', '/api/v1/login-codes', '/%61pi/v1/login-codes', '/api/v1/sync/retry']
  for (const path of posts)
    await fetch(core + path, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => {})
  const stream = (path) => new Promise((resolve) => {
    const ws = new WebSocket(core.replace('http', 'ws') + path)
    let frames = 0
    let opened = false
    ws.onopen = () => { opened = true }
    ws.onmessage = () => { frames++; ws.close() }
    ws.onclose = (event) => resolve({ path, opened, frames, code: event.code })
  })
  const streams = [await stream('/api/v1/stream'), await stream('/%61pi/v1/stream')]
  const form = document.createElement('form')
  form.method = 'POST'
  form.target = 'sink'
  form.action = core + '/api/v1/alarms/' + alarm + '/acknowledge'
  document.body.append(form)
  form.submit()
  window.result = { streams }
})()
</script>`

let served: Served
let chrome: Browser
let attacker: http.Server
let attackerPort: number
let alarm: AlarmView

const api = async <T>(path: string): Promise<T> => {
  const response = await fetch(new URL(path, served.http), {
    headers: { authorization: `Bearer ${served.token}` },
  })
  if (!response.ok) throw new Error(`${path}: ${response.status}`)
  return (await response.json()) as T
}

beforeAll(async () => {
  attacker = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(ATTACK_PAGE)
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  attackerPort = (attacker.address() as AddressInfo).port
  ;[served, chrome] = await Promise.all([
    serve(['--no-sim']),
    // attacker.example resolves to this machine, as after a DNS rebinding.
    launchChromium(['--host-resolver-rules=MAP attacker.example 127.0.0.1']),
  ])
  const device = await mqtt.connectAsync(served.mqtt)
  await device.publishAsync(
    'te/device/main///a/overheat',
    JSON.stringify({ text: 'Oven too hot', severity: 'critical' }),
    {
      retain: true,
      qos: 1,
    },
  )
  await device.endAsync()
  alarm = await vi.waitFor(async () => {
    const [found] = await api<AlarmView[]>('/api/v1/alarms')
    if (!found) throw new Error('no alarm yet')
    return found
  })
})

afterAll(async () => {
  await chrome?.close()
  await served?.stop()
  await new Promise((resolve) => attacker?.close(resolve))
})

/** A browser context logged in to the core (the victim), with its page on the UI. */
async function victim(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chrome.newContext({ viewport: { width: 1280, height: 800 } })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  await page.goto(await loginUrl(served))
  await connection(page).filter({ hasText: 'Live' }).waitFor()
  return { context, page }
}

/** Opens the attacking page at `origin` in the victim's browser; returns what reached the core. */
async function attackFrom(context: BrowserContext, origin: string) {
  const page = await context.newPage()
  // The core's answers are blocked from the page (Cross-Origin-Resource-Policy, X-Frame-Options),
  // so their statuses are read from the browser's network log: what reached the core, and how it
  // was answered.
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  const urls = new Map<string, string>()
  const answers = new Map<string, number>()
  cdp.on('Network.requestWillBeSent', (event) => urls.set(event.requestId, event.request.url))
  cdp.on('Network.responseReceivedExtraInfo', (event) => answers.set(event.requestId, event.statusCode))
  await page.goto(`${origin}/attack?core=${encodeURIComponent(served.http)}&alarm=${alarm.id}`)
  const result = (await (
    await page.waitForFunction(() => (globalThis as { result?: unknown }).result)
  ).jsonValue()) as {
    streams: Array<{ path: string; opened: boolean; frames: number; code: number }>
  }
  // Six fetches and the form's navigation, each answered.
  const statuses = await vi.waitFor(() => {
    const sent = [...urls].filter(([, url]) => url.startsWith(served.http))
    if (sent.length < 7 || sent.some(([id]) => !answers.has(id)))
      throw new Error(`${sent.length} requests so far`)
    return sent.map(([id, url]) => `${answers.get(id)} ${new URL(url).pathname}`)
  })
  await page.screenshot({ path: shot(`cross-site-${new URL(origin).hostname}`) })
  await page.close()
  return { statuses, streams: result.streams }
}

describe('a foreign page in the operator browser', () => {
  it('is refused from another port of 127.0.0.1 (same site, the cookie goes along) and from localhost', async () => {
    const { context, page } = await victim()
    for (const origin of [`http://127.0.0.1:${attackerPort}`, `http://localhost:${attackerPort}`]) {
      const { statuses, streams } = await attackFrom(context, origin)
      // Each refused before any route ran.
      for (const status of statuses) expect(status, origin).toMatch(/^(401|403) /)
      for (const stream of streams) expect(stream, origin).toMatchObject({ opened: false, frames: 0 })
    }
    const after = await api<AlarmView>(`/api/v1/alarms/${alarm.id}`)
    expect(after.status).toBe('active')
    const audit = await api<AuditEntryView[]>('/api/v1/audit')
    expect(audit.filter((entry) => entry.action.startsWith('alarm.'))).toEqual([])
    // The operator's own page still acts, with the same session.
    expect(await connection(page).textContent()).toContain('Live')
    const own = await page.evaluate(
      async (id) => (await fetch(`/api/v1/alarms/${id}/acknowledge`, { method: 'POST' })).status,
      alarm.id,
    )
    expect(own).toBe(200)
    await vi.waitFor(async () => {
      const acknowledged = await api<AuditEntryView[]>('/api/v1/audit?action=alarm.acknowledge')
      expect(acknowledged.map((entry) => entry.actor)).toEqual(['ui'])
    })
    await context.close()
  })

  it('cannot reach the core under a rebound DNS name', async () => {
    const context = await chrome.newContext()
    const page = await context.newPage()
    const port = new URL(served.http).port
    for (const path of ['/', '/api/v1/health', '/api/v1/entities']) {
      const response = await page.goto(`http://attacker.example:${port}${path}`)
      expect(response?.status(), path).toBe(403)
    }
    const stream = await page.evaluate(
      (url) =>
        new Promise((resolve) => {
          const ws = new WebSocket(url)
          ws.onopen = () => resolve('open')
          ws.onclose = (event) => resolve(event.code)
        }),
      `ws://attacker.example:${port}/api/v1/stream`,
    )
    expect(stream).toBe(1006)
    await context.close()
  })
})
