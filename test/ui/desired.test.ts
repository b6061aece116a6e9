import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent, { type UserEvent } from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConflictView, DesiredPatchInput, DesiredView } from '../../src-renderer/lib/api'
import EntityDesired from '../../src-renderer/lib/components/EntityDesired.svelte'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import { LINE, lineTwin, stubApi, stubStream } from './line-fixture'
import { FILLER, FILLER_PATH, failWith, filler, NOW, posted, recording } from './operation-fixture'
import { conflict, desiredView, property } from './sync-fixture'

const DESIRED_PATH = `${FILLER_PATH}/desired`

/** The filler's desired properties as the core holds them; a PATCH changes them like the core does. */
let view: DesiredView
let conflicts: ConflictView[]
/** The core's answer to a PATCH: applied unless a test refuses it. */
let answerPatch: (patch: DesiredPatchInput) => unknown

/** Applies a patch as the core does: refused (409) when a named property changed after baseVersion. */
function apply(patch: DesiredPatchInput) {
  const names = Object.keys(patch.properties)
  const stale = names.find(
    (name) =>
      patch.baseVersion !== undefined &&
      (view.properties.find((p) => p.name === name)?.version ?? 0) > patch.baseVersion,
  )
  if (stale) return failWith(409, `desired property "${stale}" changed after version ${patch.baseVersion}`)
  const version = names.length ? view.version + 1 : view.version
  const properties = view.properties.map((p) => ({ ...p, policy: patch.policies?.[p.name] ?? p.policy }))
  for (const [name, value] of Object.entries(patch.properties)) {
    const changed = property(name, {
      value,
      deleted: value === null,
      version,
      updatedAt: NOW,
      policy: patch.policies?.[name] ?? properties.find((p) => p.name === name)?.policy ?? 'cloud-wins',
    })
    const at = properties.findIndex((p) => p.name === name)
    if (at >= 0) properties[at] = changed
    else properties.push(changed)
  }
  view = { ...view, version, properties }
  return view
}

function core() {
  return recording(({ method, url, body }) => {
    const path = url.pathname
    if (path === '/api/v1/entities') return LINE
    if (path === '/api/v1/alarms' || path === '/api/v1/events') return []
    if (path === DESIRED_PATH && method === 'GET') return view
    if (path === DESIRED_PATH && method === 'PATCH') return answerPatch(body as DesiredPatchInput)
    if (path === `${DESIRED_PATH}/reapply` && method === 'POST') {
      const { names } = body as { names: string[] }
      const version = view.version + 1
      const properties = view.properties.map((p) =>
        names.includes(p.name) ? { ...p, version, state: 'pending' as const } : p,
      )
      view = { ...view, version, properties }
      return view
    }
    if (path === '/api/v1/sync/conflicts')
      return conflicts.filter(
        (c) => c.entity === url.searchParams.get('entity') && c.status === url.searchParams.get('status'),
      )
    const resolve = /^\/api\/v1\/sync\/conflicts\/(\d+)\/resolve$/.exec(path)
    const found = resolve && conflicts.find((c) => c.id === Number(resolve[1]))
    if (method === 'POST' && found) {
      const settled: ConflictView = {
        ...found,
        status: 'resolved',
        resolution: { by: 'ui', time: NOW, choice: (body as { choice: 'edge' | 'cloud' }).choice },
      }
      conflicts = conflicts.map((c) => (c.id === found.id ? settled : c))
      return settled
    }
    return undefined
  })
}

type Requests = ReturnType<typeof core>['requests']
const patches = (requests: Requests) =>
  requests.filter((r) => r.method === 'PATCH' && r.url.pathname === DESIRED_PATH).map((r) => r.body)
const reads = (requests: Requests, path = DESIRED_PATH) =>
  requests.filter((r) => r.method === 'GET' && r.url.pathname === path).length

async function open(twin = lineTwin()) {
  const { handler, requests } = core()
  stubApi(handler)
  const user = userEvent.setup()
  render(EntityDesired, { twin, entity: filler() })
  await screen.findByRole('table', { name: 'Desired properties of Filler PLC' })
  return { user, requests }
}

const row = (name: string) => screen.getByRole('rowheader', { name }).closest('tr') as HTMLElement
const cells = (name: string) => within(row(name)).getAllByRole('cell')
const editor = (name: string) => screen.getByRole('form', { name: `Edit ${name}` })

async function fill(user: UserEvent, box: HTMLElement, text: string) {
  await user.clear(box)
  await user.paste(text)
}

describe('Desired tab', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    view = desiredView()
    conflicts = []
    answerPatch = apply
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('shows each property with its state, the device’s answer, version, policy and origin', async () => {
    await open()
    expect(screen.getByText(/^Desired version/)).toHaveTextContent(
      'Desired version 6, synced to cloud up to v5',
    )
    expect(screen.getByText(/^Being applied by desired_update/)).toHaveTextContent(
      'Being applied by desired_update edgetwin-desired-7 executing',
    )
    expect(screen.queryByRole('note'), 'the filler declares desired_update').toBeNull()

    const names = screen.getAllByRole('rowheader').map((header) => header.textContent)
    expect(names, 'a removed property is no row').toEqual(['setpoint', 'mode', 'recipe', 'limit', 'speed'])
    expect(screen.getByText(/^Removed:/)).toHaveTextContent('Removed: legacy (v2, by cloud:alice)')

    // Desired, reported, state and answer, version, policy, changed.
    expect(
      cells('setpoint')
        .map((cell) => cell.textContent?.replace(/\s+/g, ' ').trim())
        .slice(0, 3),
    ).toEqual(['72.5', '72.5', 'applied'])
    expect(cells('mode')[1]).toHaveTextContent('manual')
    expect(cells('mode')[2]).toHaveTextContent('in progress switching over')
    expect(cells('mode')[5]).toHaveTextContent('by cloud:alice')
    expect(within(cells('recipe')[0] as HTMLElement).getByText('speed').nextElementSibling).toHaveTextContent(
      '120',
    )
    expect(cells('recipe')[1]).toHaveTextContent('not reported')
    expect(cells('recipe')[2]).toHaveTextContent('pending')
    expect(cells('recipe')[3]).toHaveTextContent('6')
    expect(cells('limit')[2]).toHaveTextContent('refused above the motor rating')
    expect(cells('limit')[2]).not.toHaveTextContent('code')
    expect(cells('speed')[1], 'what the device has').toHaveTextContent('100')
    expect(cells('speed')[2], 'its answer was to an earlier version').toHaveTextContent(
      'pending (version 2 was applied)',
    )
    expect(within(row('recipe')).getByRole('combobox', { name: 'Policy of recipe' })).toHaveValue('edge-wins')
    expect(within(row('setpoint')).getByRole('combobox', { name: 'Policy of setpoint' })).toHaveValue(
      'cloud-wins',
    )
  })

  it('says when nothing was synced and the device cannot apply desired properties yet', async () => {
    view = desiredView({ syncedVersion: null, supported: false, command: null })
    await open()
    expect(screen.getByText(/^Desired version/)).toHaveTextContent('Desired version 6, not synced')
    expect(screen.getByRole('note')).toHaveTextContent(
      'Filler PLC has not declared the desired_update operation: desired properties wait until the device declares it',
    )
    expect(screen.queryByText(/Being applied/)).toBeNull()
  })

  it('edits a value with the version it was read at, and shows the core’s answer', async () => {
    const { user, requests } = await open()
    const edit = screen.getByRole('button', { name: 'Edit setpoint' })
    await user.click(edit)
    const box = within(editor('setpoint')).getByRole('textbox', { name: 'Value of setpoint (JSON)' })
    expect(box).toHaveValue('72.5')
    expect(box).toHaveFocus()

    await fill(user, box, 'null')
    await user.click(within(editor('setpoint')).getByRole('button', { name: 'Save' }))
    expect(box).toHaveAccessibleDescription('null would remove the property: use Remove instead.')
    await fill(user, box, '{"value": 75')
    await user.click(within(editor('setpoint')).getByRole('button', { name: 'Save' }))
    expect(box).toHaveAccessibleDescription(
      "Not valid JSON at line 1, column 13: expected ',' or '}' after property value.",
    )
    expect(patches(requests)).toEqual([])

    await fill(user, box, '75')
    await user.click(within(editor('setpoint')).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(patches(requests)).toEqual([{ properties: { setpoint: 75 }, baseVersion: 6 }]))
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Edit setpoint' })).toBeNull())
    expect(edit).toHaveFocus()
    expect(cells('setpoint')[0]).toHaveTextContent('75')
    expect(cells('setpoint')[2]).toHaveTextContent('pending')
    expect(cells('setpoint')[3]).toHaveTextContent('7')
    expect(screen.getByText(/^Desired version/)).toHaveTextContent('Desired version 7')
  })

  it('reloads when the property changed meanwhile, then saves on what it shows', async () => {
    const { user, requests } = await open()
    await user.click(screen.getByRole('button', { name: 'Edit mode' }))
    const box = within(editor('mode')).getByRole('textbox')
    await fill(user, box, '"manual"')

    // The cloud changes mode while the operator types.
    const before = reads(requests)
    view = {
      ...view,
      version: 7,
      properties: view.properties.map((p) => (p.name === 'mode' ? { ...p, value: 'eco', version: 7 } : p)),
    }
    await user.click(within(editor('mode')).getByRole('button', { name: 'Save' }))
    expect(await within(editor('mode')).findByRole('alert')).toHaveTextContent(
      'Not saved: mode changed meanwhile — reloaded. Check the current value, then try again.',
    )
    expect(reads(requests)).toBe(before + 1)
    expect(cells('mode')[0]).toHaveTextContent('eco')
    expect(box, 'what was typed stays').toHaveValue('"manual"')

    await user.click(within(editor('mode')).getByRole('button', { name: 'Save' }))
    await waitFor(() =>
      expect(patches(requests)).toEqual([
        { properties: { mode: 'manual' }, baseVersion: 6 },
        { properties: { mode: 'manual' }, baseVersion: 7 },
      ]),
    )
    await waitFor(() => expect(cells('mode')[0]).toHaveTextContent('manual'))
  })

  it('adds a property with its policy, checking its name and value first', async () => {
    const { user, requests } = await open()
    const form = within(screen.getByRole('form', { name: 'Add a desired property' }))
    const name = form.getByRole('textbox', { name: 'Name' })
    const value = form.getByRole('textbox', { name: 'Value (JSON)' })
    const add = form.getByRole('button', { name: 'Add property' })
    expect(form.getByRole('combobox', { name: 'Policy' }), 'the core’s default').toHaveValue('cloud-wins')

    await user.click(add)
    expect(name).toHaveAccessibleDescription(expect.stringContaining('Enter the property name.'))
    expect(name).toHaveFocus()
    await fill(user, value, '{"max": 140}')
    for (const [text, reason] of [
      ['9lives', 'Start with a letter or "_"; then letters, digits, "_" or "-" (at most 128).'],
      ['speed limit', 'Start with a letter or "_"; then letters, digits, "_" or "-" (at most 128).'],
      ['setpoint', '"setpoint" is already desired: use its Edit button.'],
    ]) {
      await fill(user, name, text as string)
      await user.click(add)
      expect(name).toHaveAccessibleDescription(expect.stringContaining(reason as string))
    }
    expect(patches(requests)).toEqual([])

    await fill(user, name, 'speed_limit')
    await user.selectOptions(form.getByRole('combobox', { name: 'Policy' }), 'Edge wins')
    expect(form.getByRole('combobox', { name: 'Policy' })).toHaveAccessibleDescription(
      'In a conflict, the change made here is kept.',
    )
    await user.click(add)
    await waitFor(() =>
      expect(patches(requests)).toEqual([
        { properties: { speed_limit: { max: 140 } }, policies: { speed_limit: 'edge-wins' }, baseVersion: 6 },
      ]),
    )
    await waitFor(() => expect(name).toHaveValue(''))
    expect(value).toHaveValue('')
    expect(
      within(cells('speed_limit')[0] as HTMLElement).getByText('max').nextElementSibling,
    ).toHaveTextContent('140')
    expect(within(row('speed_limit')).getByRole('combobox')).toHaveValue('edge-wins')
  })

  it('removes a property after confirmation by sending null; it then shows as removed', async () => {
    const { user, requests } = await open()
    await user.click(screen.getByRole('button', { name: 'Remove recipe' }))
    const dialog = screen.getByRole('dialog', { name: 'Remove desired property?' })
    expect(dialog).toHaveTextContent('This removes recipe from the desired properties of Filler PLC.')
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(patches(requests)).toEqual([])

    await user.click(screen.getByRole('button', { name: 'Remove recipe' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }))
    await waitFor(() => expect(patches(requests)).toEqual([{ properties: { recipe: null }, baseVersion: 6 }]))
    await waitFor(() => expect(screen.queryByRole('rowheader', { name: 'recipe' })).toBeNull())
    expect(screen.getByText(/^Removed:/)).toHaveTextContent(
      'Removed: recipe (v7, by edge:ui), legacy (v2, by cloud:alice)',
    )
  })

  it('shows why a removal was refused', async () => {
    const { user } = await open()
    answerPatch = () => failWith(404, 'no entity device/filler//')
    await user.click(screen.getByRole('button', { name: 'Remove limit' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not remove limit: no entity device/filler//',
    )
    expect(row('limit')).toBeInTheDocument()
  })

  it('changes a policy at once, and puts it back when the core refuses', async () => {
    const { user, requests } = await open()
    const policy = within(row('setpoint')).getByRole('combobox', { name: 'Policy of setpoint' })
    await user.selectOptions(policy, 'Last writer wins')
    await waitFor(() =>
      expect(patches(requests)).toEqual([{ properties: {}, policies: { setpoint: 'last-writer-wins' } }]),
    )
    await waitFor(() => expect(policy).not.toBeDisabled())
    expect(policy).toHaveValue('last-writer-wins')

    answerPatch = () =>
      failWith(400, 'policy of "setpoint" must be one of cloud-wins, edge-wins, last-writer-wins')
    await user.selectOptions(policy, 'Edge wins')
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not change the policy of setpoint: policy of "setpoint" must be one of',
    )
    expect(policy).toHaveValue('last-writer-wins')
  })

  it('shows the entity’s open conflicts above the table and resolves them', async () => {
    conflicts = [
      conflict({ id: 4, property: 'recipe', winner: 'edge', policy: 'edge-wins' }),
      conflict({ id: 5, entity: 'device/tank//', property: 'level_max' }),
    ]
    const { user, requests } = await open()
    const section = await screen.findByRole('region', { name: 'Open conflicts (1)' })
    expect(requests.find((r) => r.url.pathname === '/api/v1/sync/conflicts')?.url.search).toBe(
      `?status=open&entity=${encodeURIComponent(FILLER)}`,
    )
    const article = within(section).getByRole('article', { name: 'recipe' })
    expect(within(article).queryByRole('link'), 'the page is the entity’s').toBeNull()
    expect(within(article).getByRole('region', { name: 'Edge change' })).toHaveTextContent(
      'chosen by the policy',
    )

    const before = reads(requests)
    await user.click(within(article).getByRole('button', { name: 'Keep edge value of recipe on Filler PLC' }))
    await waitFor(() => expect(screen.queryByRole('region', { name: /Open conflicts/ })).toBeNull())
    expect(requests.filter((r) => r.method === 'POST').map((r) => [r.url.pathname, r.body])).toEqual([
      ['/api/v1/sync/conflicts/4/resolve', { choice: 'edge' }],
    ])
    await waitFor(() => expect(reads(requests), 'the values are read again').toBeGreaterThan(before))
  })

  it('reads the properties and conflicts again when the stream says they changed', async () => {
    const stream = stubStream()
    const twin = new Twin()
    const { handler, requests } = core()
    stubApi(handler)
    await twin.start()
    stream.open()
    const user = userEvent.setup()
    render(EntityDesired, { twin, entity: filler() })
    await screen.findByRole('table', { name: 'Desired properties of Filler PLC' })
    void user
    const desiredReads = reads(requests)
    const conflictReads = reads(requests, '/api/v1/sync/conflicts')

    // The device acknowledged: same version, a new answer.
    view = {
      ...view,
      properties: view.properties.map((p) =>
        p.name === 'recipe'
          ? { ...p, state: 'applied', ack: { value: p.value, ac: 200, av: 6, ad: null, time: NOW } }
          : p,
      ),
    }
    stream.push({ kind: 'desired', entity: 'device/tank//', version: 3 })
    stream.push({ kind: 'desired', entity: FILLER, version: 6 })
    await waitFor(() => expect(cells('recipe')[2]).toHaveTextContent(/^\s*applied\s*$/))
    expect(reads(requests), 'once, for the filler only').toBe(desiredReads + 1)
    expect(reads(requests, '/api/v1/sync/conflicts')).toBe(conflictReads)

    conflicts = [conflict({ id: 6, property: 'mode' })]
    stream.push({ kind: 'conflict', entity: FILLER, id: 6 })
    expect(await screen.findByRole('article', { name: 'mode' })).toBeInTheDocument()
    expect(reads(requests, '/api/v1/sync/conflicts')).toBe(conflictReads + 1)
    expect(reads(requests)).toBe(desiredReads + 1)
    twin.stop()
  })

  it('shows a value changed on the device, and applies it again or keeps the device’s value', async () => {
    view = desiredView({
      properties: [
        property('setpoint', {
          value: 72.5,
          version: 3,
          state: 'drifted',
          ack: { value: 72.5, ac: 200, av: 3, ad: 'applied', time: NOW - 500_000 },
          reported: { value: 60, time: NOW - 120_000 },
        }),
        property('mode', {
          value: 'auto',
          version: 3,
          state: 'drifted',
          ack: { value: 'auto', ac: 200, av: 3, ad: 'applied', time: NOW - 500_000 },
          reported: { value: 'eco', time: NOW },
        }),
      ],
    })
    const { user, requests } = await open()
    expect(cells('setpoint')[1], 'what the device has now').toHaveTextContent('60')
    expect(cells('setpoint')[2]).toHaveTextContent(/^\s*changed on the device\s*$/)
    const drift = row('setpoint').nextElementSibling as HTMLElement
    expect(drift).toHaveTextContent(
      /Applied .+; since .+ the device reports 60: it was changed outside EdgeTwin \(at the machine, or by another tool\)/,
    )
    await user.click(within(drift).getByRole('button', { name: 'Apply 72.5 again' }))
    await waitFor(() => expect(cells('setpoint')[2]).toHaveTextContent(/^\s*pending/))
    expect(posted(requests, `${DESIRED_PATH}/reapply`)).toEqual([{ names: ['setpoint'] }])
    expect(screen.getByText(/^Desired version/)).toHaveTextContent('Desired version 7')

    await user.click(screen.getByRole('button', { name: 'Keep eco' }))
    await waitFor(() => expect(patches(requests)).toEqual([{ properties: { mode: 'eco' }, baseVersion: 7 }]))
    await waitFor(() => expect(cells('mode')[0]).toHaveTextContent('eco'))
  })

  it('offers the properties the device takes, with their range and unit, and checks a value first', async () => {
    view = desiredView({
      accepts: {
        setpoint: { type: 'number', minimum: 0, maximum: 100, unit: '%' },
        fill_rate: { type: 'integer', minimum: 30, maximum: 180, unit: 'bottles/min', default: 120 },
        mode: { type: 'string', enum: ['auto', 'manual'] },
      },
    })
    const { user, requests } = await open()
    const form = within(screen.getByRole('form', { name: 'Add a desired property' }))
    const name = form.getByRole('combobox', { name: 'Name' })
    expect(name).toHaveAccessibleDescription('The device takes fill_rate.')
    await fill(user, name, 'label_colour')
    await user.click(form.getByRole('button', { name: 'Add property' }))
    expect(name).toHaveAccessibleDescription(
      expect.stringContaining('The device does not take "label_colour"; it takes setpoint, fill_rate, mode.'),
    )

    await fill(user, name, 'fill_rate')
    const value = form.getByRole('spinbutton', { name: 'Value' })
    expect(value).toHaveAccessibleDescription('30 to 180 bottles/min; whole numbers; factory value 120')
    for (const [text, reason] of [
      ['200', 'Enter 30 to 180 bottles/min; whole numbers.'],
      ['150.5', 'Enter a whole number.'],
    ]) {
      await fill(user, value, text as string)
      await user.click(form.getByRole('button', { name: 'Add property' }))
      expect(value).toHaveAccessibleDescription(expect.stringContaining(reason as string))
    }
    await fill(user, value, '150')
    await user.click(form.getByRole('button', { name: 'Add property' }))
    await waitFor(() =>
      expect(patches(requests)).toEqual([
        { properties: { fill_rate: 150 }, policies: { fill_rate: 'cloud-wins' }, baseVersion: 6 },
      ]),
    )

    // An existing property is edited as the device describes it too: a choice, not JSON.
    await user.click(screen.getByRole('button', { name: 'Edit mode' }))
    const choice = within(editor('mode')).getByRole('combobox', { name: 'Value of mode' })
    await user.selectOptions(choice, 'manual')
    await user.click(within(editor('mode')).getByRole('button', { name: 'Save' }))
    await waitFor(() =>
      expect(patches(requests).at(-1)).toEqual({ properties: { mode: 'manual' }, baseVersion: 7 }),
    )
  })
})
