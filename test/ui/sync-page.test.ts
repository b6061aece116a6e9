import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent, { type UserEvent } from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type {
  ConflictView,
  SyncConfigInput,
  SyncConfigView,
  SyncStatusView,
} from '../../src-renderer/lib/api'
import TopBar from '../../src-renderer/lib/components/TopBar.svelte'
import { href, parseRoute } from '../../src-renderer/lib/router.svelte'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import SyncPage from '../../src-renderer/routes/SyncPage.svelte'
import { LINE, lineTwin, stubApi, stubStream } from './line-fixture'
import { FILLER, failWith, NOW, recording } from './operation-fixture'
import { conflict, MB, syncConfig, syncStatus } from './sync-fixture'

const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n'

/** What the core holds; tests change it, and the fake core below answers from it. */
let status: SyncStatusView
let config: SyncConfigView
let conflicts: ConflictView[]
/** The core's answer to a PUT of the configuration: stored unless a test refuses or holds it. */
let answerPut: (body: SyncConfigInput) => unknown

function store(body: SyncConfigInput) {
  const { password, clientCert, clientKey, ca, ...plain } = body
  const secret = (value: string | null) => ({
    set: value !== null,
    hint: value && `${value.length} characters`,
  })
  config = {
    ...config,
    ...plain,
    ...(password !== undefined && { password: secret(password) }),
    ...(clientCert !== undefined && { clientCert: secret(clientCert) }),
    ...(clientKey !== undefined && { clientKey: secret(clientKey) }),
    ...(ca !== undefined && { ca: secret(ca) }),
  }
  status = {
    ...status,
    enabled: config.enabled,
    state: config.enabled ? 'connecting' : 'off',
    url: config.url,
    siteId: config.siteId,
  }
  return config
}

function core() {
  return recording(({ method, url, body }) => {
    const path = url.pathname
    if (path === '/api/v1/sync/status') return status
    if (path === '/api/v1/sync/retry' && method === 'POST') {
      status = { ...status, state: 'connecting', nextRetryAt: null }
      return status
    }
    if (path === '/api/v1/sync/config' && method === 'GET') return config
    if (path === '/api/v1/sync/config' && method === 'PUT') return answerPut(body as SyncConfigInput)
    if (path === '/api/v1/sync/conflicts')
      return conflicts.filter((c) => c.status === (url.searchParams.get('status') ?? c.status))
    const resolve = /^\/api\/v1\/sync\/conflicts\/(\d+)\/resolve$/.exec(path)
    const found = resolve && conflicts.find((c) => c.id === Number(resolve[1]))
    if (method === 'POST' && found) {
      const { choice } = body as { choice: 'edge' | 'cloud' }
      const settled: ConflictView = {
        ...found,
        status: 'resolved',
        resolution: { by: 'ui', time: NOW, choice },
      }
      conflicts = conflicts.map((c) => (c.id === found.id ? settled : c))
      return settled
    }
    return undefined
  })
}

type Requests = ReturnType<typeof core>['requests']
const puts = (requests: Requests) =>
  requests.filter((r) => r.method === 'PUT' && r.url.pathname === '/api/v1/sync/config').map((r) => r.body)
const statusReads = (requests: Requests) =>
  requests.filter((r) => r.url.pathname === '/api/v1/sync/status').length

/** The value next to a label of the status card. */
const fact = (label: string) => screen.getByText(label, { selector: 'dt' }).nextElementSibling as HTMLElement

async function open(section?: 'conflicts') {
  const { handler, requests } = core()
  stubApi(handler)
  const user = userEvent.setup()
  const twin = lineTwin()
  render(SyncPage, { twin, section })
  await screen.findByText('Backlog', { selector: 'dt' })
  return { user, requests, twin }
}

const configForm = () => screen.getByRole('form', { name: 'Configuration' })

async function fill(user: UserEvent, box: HTMLElement, text: string) {
  await user.clear(box)
  if (text) await user.paste(text)
}

describe('Sync page', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    status = syncStatus()
    config = syncConfig()
    conflicts = []
    answerPut = store
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('is a route of its own, reached from the menu and the top bar’s indicator', async () => {
    expect(parseRoute('#/sync')).toEqual({ name: 'sync' })
    expect(parseRoute('#/sync/conflicts')).toEqual({ name: 'sync', section: 'conflicts' })
    expect(href({ name: 'sync' })).toBe('#/sync')
    expect(href({ name: 'sync', section: 'conflicts' })).toBe('#/sync/conflicts')

    const user = userEvent.setup()
    const twin = lineTwin()
    render(TopBar, { twin })
    expect(screen.queryByRole('link', { name: /^Cloud sync:/ }), 'unknown until the core answers').toBeNull()
    await user.click(screen.getByRole('button', { name: /Menu/ }))
    expect(screen.getByRole('link', { name: 'Cloud sync' })).toHaveAttribute('href', '#/sync')
  })

  it('shows the state, backlog, throughput and what was sent, in words and numbers', async () => {
    await open()
    expect(screen.getByRole('heading', { level: 1, name: 'Cloud sync' })).toBeInTheDocument()
    expect(fact('State')).toHaveTextContent(/^Connected\s*since .* \(5 min\)$/)
    expect(fact('Cloud broker')).toHaveTextContent('mqtts://cloud.example.com:8883 site plant-brno')
    expect(screen.queryByText('Last error')).toBeNull()
    expect(screen.queryByText('Next attempt'), 'only while disconnected').toBeNull()
    expect(fact('Last sync')).toHaveTextContent('2 s ago')
    expect(fact('Backlog')).toHaveTextContent('42 items (840 values), 3 MB oldest 30 s ago')
    expect(fact('Backlog bound')).toHaveTextContent('1% of 512 MB used')
    expect(fact('Throughput')).toHaveTextContent('100 values/s, 10 KB/s (last 10 s)')
    expect(fact('Sent')).toHaveTextContent(
      `900 items (${(18_000).toLocaleString()} values) in 120 batches 1 MB, compressed 6.5:1 from 6.5 MB`,
    )
    expect(fact('Dropped')).toHaveTextContent(
      /^none\s*When the backlog exceeds 512 MB, the oldest measurements, then events, are dropped; twin, alarms and operations never are\.$/,
    )
    expect(fact('From the cloud')).toHaveTextContent('7 messages, 0 rejected')
    expect(fact('Conflicts')).toHaveTextContent('0 open of 0')
    expect(within(fact('Conflicts')).queryByRole('link')).toBeNull()
  })

  it('warns of dropped data, a nearly full backlog, rejected messages and open conflicts', async () => {
    status = syncStatus({
      state: 'disconnected',
      lastError: 'connect ECONNREFUSED 10.0.0.5:8883',
      nextRetryAt: NOW + 12_000,
      backlog: { items: 1500, values: 60_000, bytes: 500 * MB, oldestTime: NOW - 7_200_000 },
      dropped: { items: 1200, values: 54_000 },
      received: { messages: 9, rejected: 2 },
      conflicts: { open: 2, total: 5 },
    })
    await open()
    expect(fact('State')).toHaveTextContent(/^Disconnected/)
    expect(fact('Last error')).toHaveTextContent('connect ECONNREFUSED 10.0.0.5:8883')
    expect(fact('Next attempt')).toHaveTextContent('in 12 s')
    expect(fact('Backlog')).toHaveTextContent('oldest 2 h ago')
    expect(within(fact('Backlog bound')).getByText('98% of 512 MB used')).toHaveClass('warn')
    const dropped = within(fact('Dropped')).getByText(/dropped$/)
    expect(dropped).toHaveTextContent(
      `⚠ ${(1200).toLocaleString()} items (${(54_000).toLocaleString()} values) dropped`,
    )
    expect(dropped).toHaveClass('warn')
    expect(within(fact('From the cloud')).getByText('2 rejected')).toHaveClass('warn')
    expect(within(fact('Conflicts')).getByText('2 open')).toHaveClass('warn')
    expect(within(fact('Conflicts')).getByRole('link', { name: 'Show conflicts' })).toHaveAttribute(
      'href',
      '#/sync/conflicts',
    )
  })

  it('reads the status every 2 seconds and counts down to the next attempt', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] })
    vi.setSystemTime(NOW)
    status = syncStatus({ state: 'disconnected', nextRetryAt: NOW + 12_000 })
    const { requests, twin } = await open()
    await waitFor(() => expect(statusReads(requests)).toBe(1))
    expect(fact('Next attempt')).toHaveTextContent('in 12 s')
    expect(twin.sync, 'the top bar shows the same').toEqual(status)

    status = syncStatus({
      state: 'connected',
      backlog: { items: 7, values: 70, bytes: 2048, oldestTime: NOW },
    })
    await vi.advanceTimersByTimeAsync(1000)
    expect(fact('Next attempt')).toHaveTextContent('in 11 s')
    expect(statusReads(requests)).toBe(1)
    await vi.advanceTimersByTimeAsync(1000)
    await waitFor(() => expect(fact('State')).toHaveTextContent(/^Connected/))
    expect(statusReads(requests)).toBe(2)
    expect(fact('Backlog')).toHaveTextContent('7 items (70 values), 2 KB')
    expect(screen.queryByText('Next attempt')).toBeNull()
    expect(twin.sync?.backlog.items).toBe(7)
  })

  it('retries at once when asked, instead of waiting for the backoff', async () => {
    status = syncStatus({
      state: 'disconnected',
      nextRetryAt: NOW + 40_000,
      lastError: 'connect ECONNREFUSED',
    })
    const { user, requests, twin } = await open()
    expect(fact('Next attempt')).toHaveTextContent('in 40 s')
    await user.click(within(fact('Next attempt')).getByRole('button', { name: 'Retry now' }))
    await waitFor(() => expect(fact('State')).toHaveTextContent(/^Connecting/))
    expect(
      requests.filter((r) => r.method === 'POST' && r.url.pathname === '/api/v1/sync/retry'),
    ).toHaveLength(1)
    expect(screen.queryByText('Next attempt')).toBeNull()
    expect(twin.sync?.state).toBe('connecting')
  })

  it('turns sync on at once and says so, then shows the new state', async () => {
    status = syncStatus({ enabled: false, state: 'off' })
    config = syncConfig({ enabled: false })
    const held: Array<() => void> = []
    answerPut = (body) => new Promise((resolve) => held.push(() => resolve(store(body))))
    const { user, requests } = await open()
    const toggle = screen.getByRole('switch', { name: 'Sync with the cloud' })
    expect(toggle).not.toBeChecked()
    expect(fact('State')).toHaveTextContent(/^Off/)

    await user.click(toggle)
    expect(toggle, 'before the core answers').toBeChecked()
    expect(toggle).toHaveAccessibleDescription('Turning sync on…')
    await waitFor(() => expect(puts(requests)).toEqual([{ enabled: true }]))

    const reads = statusReads(requests)
    held[0]?.()
    await waitFor(() => expect(toggle).toHaveAccessibleDescription('Sync is on.'))
    expect(toggle).toBeChecked()
    await waitFor(() => expect(fact('State')).toHaveTextContent(/^Connecting…/))
    expect(statusReads(requests)).toBeGreaterThan(reads)
  })

  it('turns sync off, and shows why the core refused to turn it on', async () => {
    const { user, requests } = await open()
    const site = within(await screen.findByRole('form', { name: 'Configuration' })).getByRole('textbox', {
      name: 'Site id',
    })
    await fill(user, site, 'plant-brno-2')
    const toggle = screen.getByRole('switch', { name: 'Sync with the cloud' })
    expect(toggle).toBeChecked()
    await user.click(toggle)
    await waitFor(() => expect(toggle).toHaveAccessibleDescription('Sync is off.'))
    expect(toggle).not.toBeChecked()
    expect(puts(requests), 'the switch sends only itself').toEqual([{ enabled: false }])
    expect(site, 'an edit in the form stays').toHaveValue('plant-brno-2')

    answerPut = () => failWith(400, 'sync needs a URL and a site id before it can be turned on')
    await user.click(toggle)
    await waitFor(() =>
      expect(toggle).toHaveAccessibleDescription(
        'Sync could not be turned on: sync needs a URL and a site id before it can be turned on',
      ),
    )
    expect(toggle, 'back to what the core has').not.toBeChecked()
  })

  it('sends only the fields changed, the backlog bound in bytes', async () => {
    const { user, requests } = await open()
    const form = within(await screen.findByRole('form', { name: 'Configuration' }))
    expect(form.getByRole('textbox', { name: 'Broker URL' })).toHaveValue('mqtts://cloud.example.com:8883')
    expect(form.getByRole('spinbutton', { name: 'Max backlog (MB)' })).toHaveValue(512)
    expect(form.getByRole('button', { name: 'Discard changes' })).toBeDisabled()

    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(await form.findByRole('status')).toHaveTextContent('Nothing changed.')
    expect(puts(requests)).toEqual([])

    await fill(user, form.getByRole('textbox', { name: 'Broker URL' }), 'wss://cloud.example.com/mqtt')
    await fill(user, form.getByRole('spinbutton', { name: 'Batch time (ms)' }), '500')
    await fill(user, form.getByRole('spinbutton', { name: 'Max backlog (MB)' }), '256')
    const reads = statusReads(requests)
    await user.click(form.getByRole('button', { name: 'Save' }))
    await waitFor(() =>
      expect(puts(requests)).toEqual([
        { url: 'wss://cloud.example.com/mqtt', batchMs: 500, maxBacklogBytes: 256 * MB },
      ]),
    )
    expect(await form.findByText('Saved.')).toBeInTheDocument()
    // The form starts again from what the core stored: nothing is left to save.
    expect(form.getByRole('button', { name: 'Discard changes' })).toBeDisabled()
    await waitFor(() => expect(fact('Cloud broker')).toHaveTextContent('wss://cloud.example.com/mqtt'))
    expect(statusReads(requests), 'the status is read again').toBeGreaterThan(reads)
  })

  it('checks the fields before sending and shows the core’s refusal', async () => {
    const { user, requests } = await open()
    const form = within(await screen.findByRole('form', { name: 'Configuration' }))
    const url = form.getByRole('textbox', { name: 'Broker URL' })
    const site = form.getByRole('textbox', { name: 'Site id' })
    const batch = form.getByRole('spinbutton', { name: 'Batch size (bytes)' })
    await fill(user, url, 'https://cloud.example.com')
    await fill(user, site, 'plant/brno')
    await fill(user, batch, '100')
    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(url).toHaveAccessibleDescription(
      expect.stringMatching(/Use an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL\.$/),
    )
    expect(url).toHaveFocus()
    expect(site).toHaveAccessibleDescription(expect.stringContaining('Use 1 to 64 letters, digits'))
    expect(batch).toHaveAccessibleDescription(expect.stringContaining('Enter a whole number of bytes from'))
    expect(puts(requests)).toEqual([])

    await user.click(form.getByRole('button', { name: 'Discard changes' }))
    expect(url).toHaveValue('mqtts://cloud.example.com:8883')
    expect(url).not.toHaveAttribute('aria-invalid')

    answerPut = () => failWith(400, 'site id "plant brno" must be 1-64 letters, digits, "_", "." or "-"')
    await fill(user, site, 'plant-brno-2')
    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(await form.findByRole('alert')).toHaveTextContent(
      'Not saved: site id "plant brno" must be 1-64 letters, digits, "_", "." or "-"',
    )
    expect(puts(requests)).toEqual([{ siteId: 'plant-brno-2' }])
    expect(site, 'what was typed stays').toHaveValue('plant-brno-2')
  })

  it('never shows a secret: replaces, sets from a file, or removes one on Save', async () => {
    const { user, requests } = await open()
    const form = within(await screen.findByRole('form', { name: 'Configuration' }))
    const password = within(form.getByRole('group', { name: 'Password' }))
    const ca = within(form.getByRole('group', { name: 'CA certificate' }))
    const cert = within(form.getByRole('group', { name: 'Client certificate' }))
    expect(password.getByText('set (12 characters)')).toBeInTheDocument()
    expect(ca.getByText('set (CN=Plant CA, O=Example (SHA-256 3f9a1c0d22be…))')).toBeInTheDocument()
    expect(cert.getByText('not set')).toBeInTheDocument()
    expect(
      document.querySelector('input[type="password"], textarea'),
      'no secret field until asked',
    ).toBeNull()

    await user.click(password.getByRole('button', { name: 'Replace the password' }))
    const box = password.getByLabelText('New password')
    expect(box).toHaveAttribute('type', 'password')
    expect(box, 'never prefilled').toHaveValue('')
    expect(box).toHaveFocus()
    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(box).toHaveAccessibleDescription('Enter the new password, or cancel.')
    await user.type(box, 'n3w-s3cret!')

    await user.click(ca.getByRole('button', { name: 'Remove the CA certificate' }))
    expect(
      ca.getByText('set (CN=Plant CA, O=Example (SHA-256 3f9a1c0d22be…)): removed when you save'),
    ).toBeInTheDocument()

    await user.click(cert.getByRole('button', { name: 'Set the client certificate' }))
    const pem = cert.getByRole('textbox', { name: 'New client certificate (PEM)' })
    await user.type(pem, 'not a certificate')
    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(pem).toHaveAccessibleDescription(
      expect.stringContaining('This is not a certificate (-----BEGIN CERTIFICATE-----) in PEM format.'),
    )
    expect(puts(requests)).toEqual([])
    await user.upload(
      cert.getByLabelText('Read a file for the client certificate'),
      new File([CERTIFICATE], 'client.pem', { type: 'application/x-pem-file' }),
    )
    await waitFor(() => expect(pem).toHaveValue(CERTIFICATE))

    await user.click(form.getByRole('button', { name: 'Save' }))
    await waitFor(() =>
      expect(puts(requests)).toEqual([{ password: 'n3w-s3cret!', clientCert: CERTIFICATE, ca: null }]),
    )
    // Answered back as hints only; the form shows them, with no field holding a secret.
    expect(await password.findByText('set (11 characters)')).toBeInTheDocument()
    expect(ca.getByText('not set')).toBeInTheDocument()
    expect(document.querySelector('input[type="password"], textarea')).toBeNull()
    expect(configForm()).not.toHaveTextContent('n3w-s3cret!')
  })

  it('keeps a secret when its replacement or removal is cancelled', async () => {
    const { user, requests } = await open()
    const form = within(await screen.findByRole('form', { name: 'Configuration' }))
    const password = within(form.getByRole('group', { name: 'Password' }))
    await user.click(password.getByRole('button', { name: 'Remove the password' }))
    await user.click(password.getByRole('button', { name: 'Keep the password' }))
    expect(password.getByRole('button', { name: 'Replace the password' })).toHaveFocus()
    await user.click(password.getByRole('button', { name: 'Replace the password' }))
    await user.type(password.getByLabelText('New password'), 'abc')
    await user.click(password.getByRole('button', { name: 'Cancel replacing the password' }))
    await user.click(form.getByRole('button', { name: 'Save' }))
    expect(await form.findByRole('status')).toHaveTextContent('Nothing changed.')
    expect(puts(requests)).toEqual([])
  })

  it('lists open conflicts first, keeps the winner or uses the other side after confirming', async () => {
    conflicts = [
      conflict({
        id: 3,
        property: 'mode',
        edge: { ...conflict().edge, value: 'eco' },
        policy: 'edge-wins',
        winner: 'edge',
      }),
      conflict({ id: 2 }),
      conflict({
        id: 1,
        entity: 'device/tank//',
        property: 'level_max',
        status: 'resolved',
        resolution: { by: 'api', time: NOW - 30_000, choice: 'edge' },
      }),
    ]
    const { user, requests } = await open('conflicts')
    expect(
      screen.getByRole('heading', { level: 2, name: 'Conflicts' }),
      'opened from the status link',
    ).toHaveFocus()
    const setpoint = await screen.findByRole('article', { name: 'setpoint on Filler PLC' })
    const mode = screen.getByRole('article', { name: 'mode on Filler PLC' })
    expect(
      screen
        .getAllByRole('article')
        .map((article) => within(article).getByRole('heading', { level: 3 }).textContent),
    ).toEqual(['mode on Filler PLC', 'setpoint on Filler PLC', 'level_max on Buffer Tank T-301'])
    expect(within(setpoint).getByRole('link', { name: 'Filler PLC' })).toHaveAttribute(
      'href',
      '#/entity/device%2Ffiller%2F%2F',
    )
    expect(setpoint).toHaveTextContent('Cloud wins')
    const edge = within(setpoint).getByRole('region', { name: 'Edge change' })
    const cloud = within(setpoint).getByRole('region', { name: 'Cloud change' })
    expect(edge).toHaveTextContent('72.5')
    expect(edge).toHaveTextContent('by edge:ui')
    expect(cloud).toHaveTextContent('80')
    expect(cloud).toHaveTextContent('chosen by the policy')
    expect(cloud).toHaveTextContent('by cloud:alice')
    expect(edge).not.toHaveTextContent('chosen by the policy')
    expect(screen.getByRole('article', { name: 'level_max on Buffer Tank T-301' })).toHaveTextContent(
      /Resolved by api, .*: applied the edge value\./,
    )

    await user.click(
      within(setpoint).getByRole('button', { name: 'Keep cloud value of setpoint on Filler PLC' }),
    )
    await waitFor(() =>
      expect(screen.getByRole('article', { name: 'setpoint on Filler PLC' })).toHaveTextContent(
        /Resolved by ui, .*: kept the cloud value\./,
      ),
    )
    const posts = () => requests.filter((r) => r.method === 'POST').map((r) => [r.url.pathname, r.body])
    expect(posts()).toEqual([['/api/v1/sync/conflicts/2/resolve', { choice: 'cloud' }]])

    await user.click(within(mode).getByRole('button', { name: 'Use cloud value of mode on Filler PLC' }))
    const dialog = screen.getByRole('dialog', { name: 'Use the cloud value?' })
    expect(dialog).toHaveTextContent(
      'mode on Filler PLC becomes 80 as a new change, instead of the edge value',
    )
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(posts()).toHaveLength(1)
    await user.click(within(mode).getByRole('button', { name: 'Use cloud value of mode on Filler PLC' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Use cloud value' }))
    await waitFor(() => expect(posts()[1]).toEqual(['/api/v1/sync/conflicts/3/resolve', { choice: 'cloud' }]))
    await waitFor(() =>
      expect(
        screen.getByText('No open conflicts: edge and cloud agree on every desired property.'),
      ).toBeInTheDocument(),
    )
  })

  it('shows why a conflict could not be resolved', async () => {
    conflicts = [conflict()]
    const { handler } = core()
    stubApi((request) =>
      request.method === 'POST' ? failWith(409, 'conflict 1 is already resolved') : handler(request),
    )
    const user = userEvent.setup()
    render(SyncPage, { twin: lineTwin() })
    const article = await screen.findByRole('article', { name: 'setpoint on Filler PLC' })
    await user.click(within(article).getByRole('button', { name: /^Keep cloud value/ }))
    expect(await within(article).findByRole('alert')).toHaveTextContent(
      'Not resolved: conflict 1 is already resolved',
    )
  })

  it('reads the conflicts again when the stream says one changed', async () => {
    const { handler, requests } = core()
    stubApi((request) => {
      const path = request.url.pathname
      if (path === '/api/v1/entities') return LINE
      if (path === '/api/v1/alarms' || path === '/api/v1/events') return []
      return handler(request)
    })
    const stream = stubStream()
    const twin = new Twin()
    await twin.start()
    stream.open()
    render(SyncPage, { twin })
    await screen.findByText(/No open conflicts/)
    const reads = () => requests.filter((r) => r.url.pathname === '/api/v1/sync/conflicts').length
    const before = reads()

    conflicts = [conflict({ id: 9, property: 'speed' }), conflict({ id: 10, property: 'mode' })]
    stream.push({ kind: 'conflict', entity: FILLER, id: 9 }, { kind: 'conflict', entity: FILLER, id: 10 })
    expect(await screen.findByRole('article', { name: 'speed on Filler PLC' })).toBeInTheDocument()
    expect(reads(), 'open and resolved, once for the frame').toBe(before + 2)
    twin.stop()
  })
})

describe('Sync indicator in the top bar', () => {
  it('shows the state and the backlog, and links to the Sync page', async () => {
    const twin = lineTwin()
    render(TopBar, { twin })
    twin.sync = syncStatus({ backlog: { items: 1500, values: 9000, bytes: MB, oldestTime: NOW } })
    const link = await screen.findByRole('link', {
      name: `Cloud sync: connected, ${(1500).toLocaleString()} items waiting`,
    })
    expect(link).toHaveAttribute('href', '#/sync')
    expect(link).toHaveTextContent(/Connected\s*1\.5K/)

    twin.sync = syncStatus({
      state: 'disconnected',
      conflicts: { open: 2, total: 2 },
      backlog: { items: 0, values: 0, bytes: 0, oldestTime: null },
    })
    expect(
      await screen.findByRole('link', { name: 'Cloud sync: disconnected, 2 open conflicts' }),
    ).toHaveClass('bad')
  })

  it('is muted while sync is off', async () => {
    const twin = lineTwin()
    twin.sync = syncStatus({ enabled: false, state: 'off' })
    render(TopBar, { twin })
    const link = screen.getByRole('link', { name: 'Cloud sync: off' })
    expect(link).toHaveTextContent('Sync off')
    expect(link).toHaveClass('off')
  })
})
