import './uplot-env'
import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent, { type UserEvent } from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { entityPath, type TwinValueView } from '../../src-renderer/lib/api'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import EntityPage from '../../src-renderer/routes/EntityPage.svelte'
import { detail, LINE, stubApi, stubStream } from './line-fixture'

const FILLER = 'device/filler//'
/** What the add form says under its Key field. */
const KEY_HINT = 'Not starting with "@"; no "/", "+" or "#".'
const filler = LINE.find((e) => e.id === FILLER)
if (!filler) throw new Error('the line has no filler')

const fragment = (value: unknown, version = 1): TwinValueView => ({
  value,
  version,
  updatedAt: Date.now() - 60_000,
})

/** The filler's twin as the core holds it: it changes only when a test's device reports. */
let twin: Record<string, TwinValueView>
/** Bodies of the PATCH requests, in order. */
let patches: unknown[]
/** The core's answer to a PATCH: 202 unless a test refuses it or holds it back. */
let answerPatch: (body: unknown) => unknown
let live: Twin | undefined

const accepted = (body: unknown) => Response.json(body, { status: 202 })
const refused = (status: number, error: string) => Response.json({ error }, { status })

function core() {
  stubApi(({ method, url, body }) => {
    if (url.pathname === '/api/v1/entities') return LINE
    if (url.pathname === '/api/v1/alarms' || url.pathname === '/api/v1/events') return []
    if (url.pathname !== entityPath(FILLER)) return undefined
    if (method === 'GET') return { ...detail(filler as (typeof LINE)[number]), series: [], twin }
    if (method !== 'PATCH') return undefined
    patches.push(body)
    return answerPatch(body)
  })
}

/** Opens the filler's page on a started Twin (its stream stubbed); with no series it opens on the twin. */
async function open() {
  const stream = stubStream()
  live = new Twin()
  await live.start()
  stream.open()
  const user = userEvent.setup()
  render(EntityPage, { twin: live, id: FILLER })
  await screen.findByRole('tabpanel', { name: 'Twin & profile' })

  /** The fragment comes back through the bus: the core stores it and the stream says so. */
  const report = (key: string, value: unknown) => {
    const { [key]: current, ...rest } = twin
    twin = value === null ? rest : { ...twin, [key]: fragment(value, (current?.version ?? 0) + 1) }
    stream.push({ kind: 'twin', entity: FILLER, key, value })
  }
  return { user, report }
}

const row = (key: string) => screen.getByRole('rowheader', { name: key }).closest('tr') as HTMLElement
const editor = (key: string) => screen.getByRole('form', { name: `Edit ${key}` })

async function fill(user: UserEvent, box: HTMLElement, text: string) {
  await user.clear(box)
  await user.paste(text)
}

describe('Editing the twin', () => {
  beforeEach(() => {
    twin = {
      name: fragment('Filler PLC'),
      serialNumber: fragment('AF24-PLC-0093317'),
      hardware: fragment({ revision: 'D2' }),
    }
    patches = []
    answerPatch = accepted
    core()
  })
  afterEach(() => {
    live?.stop()
    vi.unstubAllGlobals()
  })

  it('edits a fragment, says it waits for the device, then shows the value the stream brings', async () => {
    const { user, report } = await open()
    const edit = screen.getByRole('button', { name: 'Edit serialNumber' })
    expect(edit).toHaveAttribute('aria-expanded', 'false')
    await user.click(edit)
    expect(edit).toHaveAttribute('aria-expanded', 'true')
    const box = within(editor('serialNumber')).getByRole('textbox', { name: 'Value of serialNumber (JSON)' })
    expect(box).toHaveValue('"AF24-PLC-0093317"')
    expect(box).toHaveFocus()

    let answer = () => {}
    answerPatch = (body) => new Promise((resolve) => (answer = () => resolve(accepted(body))))
    await fill(user, box, '"AF24-PLC-0099999"')
    await user.click(within(editor('serialNumber')).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(patches).toEqual([{ twin: { serialNumber: 'AF24-PLC-0099999' } }]))
    // While the core has not answered, nothing can be sent again.
    expect(within(editor('serialNumber')).getByRole('button', { name: 'Saving…' })).toBeDisabled()
    expect(within(editor('serialNumber')).getByRole('button', { name: 'Cancel' })).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Remove hardware' })).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Add fragment' })).toBeDisabled()

    answer()
    await waitFor(() =>
      expect(screen.queryByRole('form', { name: 'Edit serialNumber' })).not.toBeInTheDocument(),
    )
    expect(edit).toHaveFocus()
    expect(screen.getByText(/waiting for the device/)).toHaveTextContent(
      'serialNumber saved, waiting for the device to report it…',
    )
    expect(row('serialNumber'), 'the old value until the device reports the new one').toHaveTextContent(
      'AF24-PLC-0093317',
    )

    report('serialNumber', 'AF24-PLC-0099999')
    await waitFor(() => expect(row('serialNumber')).toHaveTextContent('AF24-PLC-0099999'))
    expect(within(row('serialNumber')).getAllByRole('cell')[1]).toHaveTextContent('2')
    expect(screen.queryByText(/waiting for the device/)).not.toBeInTheDocument()
    expect(patches).toHaveLength(1)
  })

  it('cancels an edit with the button or Escape, sends nothing and returns focus to Edit', async () => {
    const { user } = await open()
    const edit = screen.getByRole('button', { name: 'Edit name' })
    await user.click(edit)
    await fill(user, within(editor('name')).getByRole('textbox'), '"Filler 2"')
    await user.click(within(editor('name')).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('form', { name: 'Edit name' })).not.toBeInTheDocument()
    expect(edit).toHaveFocus()
    expect(edit).toHaveAttribute('aria-expanded', 'false')

    await user.click(edit)
    expect(within(editor('name')).getByRole('textbox'), 'the current value again').toHaveValue('"Filler PLC"')
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('form', { name: 'Edit name' })).not.toBeInTheDocument()
    expect(edit).toHaveFocus()
    expect(patches).toEqual([])
  })

  it('refuses text that is not JSON, null and the unchanged value, next to the text', async () => {
    const { user } = await open()
    await user.click(screen.getByRole('button', { name: 'Edit hardware' }))
    const box = within(editor('hardware')).getByRole('textbox', { name: 'Value of hardware (JSON)' })
    expect(box).toHaveValue('{\n  "revision": "D2"\n}')
    const save = within(editor('hardware')).getByRole('button', { name: 'Save' })

    await fill(user, box, '{"revision": "D3",}')
    await user.click(save)
    expect(box).toHaveAttribute('aria-invalid', 'true')
    expect(box).toHaveAccessibleDescription(
      'Not valid JSON at line 1, column 19: expected double-quoted property name.',
    )
    expect(box).toHaveFocus()
    await user.type(box, ' ')
    expect(box, 'typing clears the message').not.toHaveAttribute('aria-invalid')

    await fill(user, box, 'null')
    await user.click(save)
    expect(box).toHaveAccessibleDescription('null would remove the fragment: use Remove instead.')

    await fill(user, box, '{"revision":"D2"}')
    await user.click(save)
    expect(box).toHaveAccessibleDescription('This is the current value: change it, or cancel.')
    expect(patches).toEqual([])
  })

  it("shows the core's refusal of an edit and keeps the editor open", async () => {
    const { user } = await open()
    answerPatch = () => refused(503, 'MQTT bus unavailable')
    await user.click(screen.getByRole('button', { name: 'Edit hardware' }))
    const box = within(editor('hardware')).getByRole('textbox')
    await fill(user, box, '{"revision": "D3"}')
    await user.click(within(editor('hardware')).getByRole('button', { name: 'Save' }))
    expect(await within(editor('hardware')).findByRole('alert')).toHaveTextContent(
      'Not saved: MQTT bus unavailable',
    )
    expect(patches).toEqual([{ twin: { hardware: { revision: 'D3' } } }])
    expect(box).toHaveValue('{"revision": "D3"}')
    expect(within(editor('hardware')).getByRole('button', { name: 'Save' })).toBeEnabled()
    expect(screen.queryByText(/waiting for the device/)).not.toBeInTheDocument()
  })

  it('removes a fragment only after confirmation, once the stream says it is gone', async () => {
    const { user, report } = await open()
    const remove = screen.getByRole('button', { name: 'Remove hardware' })
    await user.click(remove)
    const dialog = screen.getByRole('dialog', { name: 'Remove twin fragment?' })
    expect(dialog).toHaveTextContent(
      'hardware and its value are removed from the twin of Filler PLC, here and for every program that reads the twin. This is recorded in the audit trail.',
    )
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(patches).toEqual([])

    await user.click(remove)
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }))
    await waitFor(() => expect(patches).toEqual([{ twin: { hardware: null } }]))
    expect(await screen.findByText(/waiting for the device/)).toHaveTextContent(
      'hardware removal sent, waiting for the device to report it…',
    )
    expect(row('hardware')).toBeInTheDocument()

    report('hardware', null)
    await waitFor(() => expect(screen.queryByRole('rowheader', { name: 'hardware' })).not.toBeInTheDocument())
    expect(screen.queryByText(/waiting for the device/)).not.toBeInTheDocument()
  })

  it("shows the core's refusal of a removal", async () => {
    const { user } = await open()
    answerPatch = () => refused(404, 'no entity device/filler//')
    await user.click(screen.getByRole('button', { name: 'Remove name' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not remove name: no entity device/filler//',
    )
    expect(patches).toEqual([{ twin: { name: null } }])
  })

  it('adds a fragment with a key checked like the core checks it', async () => {
    const { user, report } = await open()
    const form = screen.getByRole('form', { name: 'Add a fragment' })
    const key = within(form).getByRole('textbox', { name: 'Key' })
    const value = within(form).getByRole('textbox', { name: 'Value (JSON)' })
    const add = within(form).getByRole('button', { name: 'Add fragment' })

    await user.click(add)
    expect(key).toHaveAccessibleDescription(`${KEY_HINT} Enter the fragment key.`)
    expect(value).toHaveAccessibleDescription(
      'Any JSON: "text", 42, true, {"name": "value"}. Enter a JSON value, like "text", 42 or {"name": "value"}.',
    )
    expect(key).toHaveFocus()

    await fill(user, value, '{"line": 3, "hall": "B"}')
    const refusals: Array<[string, string]> = [
      ['@type', 'A key must not start with "@" (reserved for thin-edge.io metadata).'],
      ['line/3', 'A key must not contain "/" (it is one topic level).'],
      ['line+', 'A key must not contain "+" or "#" (MQTT wildcards).'],
      ['#', 'A key must not contain "+" or "#" (MQTT wildcards).'],
      ['name', 'The twin already has "name": use its Edit button.'],
    ]
    for (const [text, reason] of refusals) {
      await fill(user, key, text)
      await user.click(add)
      expect(key).toHaveAttribute('aria-invalid', 'true')
      expect(key).toHaveAccessibleDescription(`${KEY_HINT} ${reason}`)
      expect(value).not.toHaveAttribute('aria-invalid')
    }
    expect(patches).toEqual([])

    await fill(user, key, ' location ')
    await user.click(add)
    await waitFor(() => expect(patches).toEqual([{ twin: { location: { line: 3, hall: 'B' } } }]))
    await waitFor(() => expect(key).toHaveValue(''))
    expect(value).toHaveValue('')
    expect(screen.getByText(/waiting for the device/)).toHaveTextContent(
      'location added, waiting for the device to report it…',
    )
    expect(screen.queryByRole('rowheader', { name: 'location' })).not.toBeInTheDocument()

    report('location', { line: 3, hall: 'B' })
    await waitFor(() =>
      expect(within(row('location')).getByText('line').nextElementSibling).toHaveTextContent('3'),
    )
    expect(screen.queryByText(/waiting for the device/)).not.toBeInTheDocument()
  })

  it("shows the core's refusal of a new fragment and keeps what was typed", async () => {
    const { user } = await open()
    answerPatch = () => refused(400, 'twin key "lo cation" is not accepted')
    const form = screen.getByRole('form', { name: 'Add a fragment' })
    await fill(user, within(form).getByRole('textbox', { name: 'Key' }), 'lo cation')
    await fill(user, within(form).getByRole('textbox', { name: 'Value (JSON)' }), '"B"')
    await user.click(within(form).getByRole('button', { name: 'Add fragment' }))
    expect(await within(form).findByRole('alert')).toHaveTextContent(
      'Not added: twin key "lo cation" is not accepted',
    )
    expect(patches).toEqual([{ twin: { 'lo cation': 'B' } }])
    expect(within(form).getByRole('textbox', { name: 'Key' })).toHaveValue('lo cation')
  })
})
