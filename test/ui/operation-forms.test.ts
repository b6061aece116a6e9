import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OperationRequest, SoftwareView } from '../../src-renderer/lib/api'
import EntityOperations from '../../src-renderer/lib/components/EntityOperations.svelte'
import { type Handler, lineTwin, stubApi } from './line-fixture'
import {
  FILLER_PATH,
  failWith,
  filler,
  NOW,
  operation,
  operationDetail,
  posted,
  recording,
  state,
} from './operation-fixture'

const SOFTWARE: SoftwareView = {
  types: ['apt', 'container'],
  modules: [
    { type: 'apt', name: 'plc-runtime', version: '3.11.4' },
    { type: 'apt', name: 'nano', version: '7.2' },
    { type: 'container', name: 'vision', version: '1.0.0' },
  ],
  updatedAt: NOW - 120_000,
}

/** The core for the filler: a request is accepted as operation 41 with the payload it was sent. */
function core(override: Handler = () => undefined) {
  return recording((request) => {
    const answer = override(request)
    if (answer !== undefined) return answer
    const { method, url, body } = request
    if (method === 'GET' && url.pathname === '/api/v1/operations') return []
    if (method === 'POST' && url.pathname === `${FILLER_PATH}/operations`) {
      const { operation: name, payload = {} } = body as OperationRequest
      return operation({ id: 41, operation: name, payload, createdAt: NOW, updatedAt: NOW })
    }
    const one = /^\/api\/v1\/operations\/(\d+)$/.exec(url.pathname)
    if (one) return operationDetail(operation({ id: Number(one[1]), createdAt: NOW }), [state('init', NOW)])
    if (url.pathname === `${FILLER_PATH}/software`) return SOFTWARE
    return undefined
  })
}

const sentRequests = (requests: ReturnType<typeof core>['requests']) =>
  posted(requests, `${FILLER_PATH}/operations`)

async function open(handler = core()) {
  stubApi(handler.handler)
  const user = userEvent.setup()
  render(EntityOperations, { twin: lineTwin(), entity: filler() })
  return { user, requests: handler.requests }
}

async function pick(user: ReturnType<typeof userEvent.setup>, name: string) {
  await user.click(
    within(screen.getByRole('group', { name: 'Operation to run' })).getByRole('button', { name }),
  )
}

describe('Operation forms', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('offers what the capabilities allow, the operations with their own form first', async () => {
    await open()
    const picker = screen.getByRole('group', { name: 'Operation to run' })
    expect(
      within(picker)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual([
      'Restart',
      'Software list',
      'Software update',
      'Config snapshot',
      'Config update',
      'Log upload',
      'Firmware update',
      'Calibrate scale',
      'Device profile',
    ])
    expect(within(picker).getByRole('button', { name: 'Restart' })).toHaveAttribute('aria-pressed', 'true')
  })

  it('restarts only after confirmation, then follows the new operation', async () => {
    const { user, requests } = await open()
    await user.click(screen.getByRole('button', { name: 'Restart…' }))
    const dialog = screen.getByRole('dialog', { name: 'Restart Filler PLC?' })
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(sentRequests(requests)).toEqual([])

    await user.click(screen.getByRole('button', { name: 'Restart…' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Restart' }))
    await waitFor(() => expect(sentRequests(requests)).toEqual([{ operation: 'restart', payload: {} }]))
    expect(await screen.findByText('Restart requested as operation #41.')).toHaveAttribute('role', 'status')
    expect(await screen.findByRole('heading', { name: 'Restart #41' })).toBeInTheDocument()
    // The request joined the history at once, before the stream echoes it.
    const history = screen.getByRole('table', { name: 'Operations, newest first' })
    expect(within(history).getByRole('button', { name: 'Details of restart #41' })).toHaveAttribute(
      'aria-pressed',
      'true',
    )
  })

  it('asks for the software list', async () => {
    const { user, requests } = await open()
    await pick(user, 'Software list')
    await user.click(screen.getByRole('button', { name: 'Refresh software list' }))
    await waitFor(() => expect(sentRequests(requests)).toEqual([{ operation: 'software_list', payload: {} }]))
  })

  it('builds a software update from removals, version changes and new modules', async () => {
    const { user, requests } = await open()
    await pick(user, 'Software update')
    const form = screen.getByRole('form', { name: 'Software update' })
    const installed = await within(form).findByRole('table', { name: 'Installed software' })
    expect(within(installed).getAllByRole('row')).toHaveLength(4)

    await user.click(within(form).getByRole('button', { name: 'Update software…' }))
    expect(within(form).getByRole('alert')).toHaveTextContent('Choose a module to remove or change')

    await user.selectOptions(within(installed).getByRole('combobox', { name: 'Change nano' }), 'Remove')
    await user.selectOptions(
      within(installed).getByRole('combobox', { name: 'Change plc-runtime' }),
      'Change version',
    )
    await user.click(within(form).getByRole('button', { name: 'Update software…' }))
    const newVersion = within(installed).getByRole('textbox', { name: 'New version of plc-runtime' })
    expect(newVersion).toHaveAccessibleDescription('Enter the version to install.')
    expect(newVersion).toHaveFocus()
    await user.type(newVersion, '3.12.0')

    const adder = within(form).getByRole('group', { name: 'Install a module' })
    await user.selectOptions(within(adder).getByRole('combobox', { name: 'Software type' }), 'container')
    await user.type(within(adder).getByRole('textbox', { name: 'Module name' }), 'mqtt-logger')
    await user.type(within(adder).getByRole('textbox', { name: 'Module version' }), '2.1')
    await user.type(
      within(adder).getByRole('textbox', { name: 'Download URL (optional)' }),
      'https://repo.example/mqtt-logger.tar{Enter}',
    )
    expect(within(form).getByRole('list', { name: 'Changes to send' })).toHaveTextContent(
      'Install mqtt-logger 2.1 (container) from https://repo.example/mqtt-logger.tar',
    )

    await user.click(within(form).getByRole('button', { name: 'Update software…' }))
    const dialog = screen.getByRole('dialog', { name: 'Apply 3 software changes on Filler PLC?' })
    expect(
      within(within(dialog).getByRole('list', { name: 'Software changes' }))
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([
      'Install plc-runtime 3.12.0 (apt)',
      'Remove nano 7.2 (apt)',
      'Install mqtt-logger 2.1 (container) from https://repo.example/mqtt-logger.tar',
    ])
    await user.click(within(dialog).getByRole('button', { name: 'Update software' }))
    await waitFor(() =>
      expect(sentRequests(requests)).toEqual([
        {
          operation: 'software_update',
          payload: {
            updateList: [
              {
                type: 'apt',
                modules: [
                  { name: 'plc-runtime', version: '3.12.0', action: 'install' },
                  { name: 'nano', version: '7.2', action: 'remove' },
                ],
              },
              {
                type: 'container',
                modules: [
                  {
                    name: 'mqtt-logger',
                    version: '2.1',
                    url: 'https://repo.example/mqtt-logger.tar',
                    action: 'install',
                  },
                ],
              },
            ],
          },
        },
      ]),
    )
  })

  it('takes a configuration snapshot of the chosen type', async () => {
    const { user, requests } = await open()
    await pick(user, 'Config snapshot')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Configuration type' }), 'recipes.json')
    await user.click(screen.getByRole('button', { name: 'Request snapshot' }))
    await waitFor(() =>
      expect(sentRequests(requests)).toEqual([
        { operation: 'config_snapshot', payload: { type: 'recipes.json' } },
      ]),
    )
  })

  it('asks for a log of the last hour by default, with the search text and a line limit', async () => {
    const { user, requests } = await open()
    await pick(user, 'Log upload')
    const form = within(screen.getByRole('form', { name: 'Log upload' }))
    const from = form.getByLabelText('From')
    const to = form.getByLabelText('To')
    expect(from).toHaveValue(toLocalInput(NOW - 3_600_000))
    expect(to).toHaveValue(toLocalInput(NOW))
    expect(form.getByRole('spinbutton', { name: 'At most (lines)' })).toHaveValue(1000)

    await fireEvent.input(to, { target: { value: '2000-01-01T00:00' } })
    await user.clear(form.getByRole('spinbutton', { name: 'At most (lines)' }))
    await user.click(form.getByRole('button', { name: 'Request log' }))
    expect(to).toHaveAccessibleDescription('The end must be after the start.')
    expect(form.getByRole('spinbutton', { name: 'At most (lines)' })).toHaveAccessibleDescription(
      'Enter a whole number of lines, 1 or more.',
    )
    expect(sentRequests(requests)).toEqual([])

    await fireEvent.input(to, { target: { value: toLocalInput(NOW) } })
    await user.type(form.getByRole('spinbutton', { name: 'At most (lines)' }), '500')
    await user.selectOptions(form.getByRole('combobox', { name: 'Log type' }), 'syslog')
    await user.type(form.getByRole('searchbox', { name: 'Only lines containing' }), 'ERROR')
    await user.click(form.getByRole('button', { name: 'Request log' }))
    await waitFor(() =>
      expect(sentRequests(requests)).toEqual([
        {
          operation: 'log_upload',
          payload: {
            type: 'syslog',
            dateFrom: new Date(NOW - 3_600_000).toISOString(),
            dateTo: new Date(NOW + 59_999).toISOString(),
            searchText: 'ERROR',
            lines: 500,
          },
        },
      ]),
    )
  })

  it('checks a firmware update before asking to confirm it', async () => {
    const { user, requests } = await open()
    await pick(user, 'Firmware update')
    const form = within(screen.getByRole('form', { name: 'Firmware update' }))
    await user.click(form.getByRole('button', { name: 'Update firmware…' }))
    expect(form.getByRole('textbox', { name: 'Firmware name' })).toHaveAccessibleDescription(
      'Enter the firmware name.',
    )
    expect(form.getByRole('textbox', { name: 'Firmware name' })).toHaveFocus()
    expect(form.getByRole('textbox', { name: 'Version' })).toHaveAttribute('aria-invalid', 'true')
    await user.type(form.getByRole('textbox', { name: 'Firmware name' }), 'plc-runtime')
    await user.type(form.getByRole('textbox', { name: 'Version' }), '3.12.0')
    await user.type(form.getByRole('textbox', { name: 'Image URL' }), 'ftp://images/plc.bin')
    await user.click(form.getByRole('button', { name: 'Update firmware…' }))
    expect(form.getByRole('textbox', { name: 'Image URL' })).toHaveAccessibleDescription(
      'Enter the http:// or https:// address of the image.',
    )
    expect(form.getByRole('textbox', { name: 'Version' })).not.toHaveAttribute('aria-invalid')

    await user.clear(form.getByRole('textbox', { name: 'Image URL' }))
    await user.type(form.getByRole('textbox', { name: 'Image URL' }), 'https://images.example/plc-3.12.0.bin')
    await user.click(form.getByRole('button', { name: 'Update firmware…' }))
    const dialog = screen.getByRole('dialog', { name: 'Install plc-runtime 3.12.0 on Filler PLC?' })
    await user.click(within(dialog).getByRole('button', { name: 'Update firmware' }))
    await waitFor(() =>
      expect(sentRequests(requests)).toEqual([
        {
          operation: 'firmware_update',
          payload: {
            name: 'plc-runtime',
            version: '3.12.0',
            remoteUrl: 'https://images.example/plc-3.12.0.bin',
          },
        },
      ]),
    )
  })

  it('sends a device profile or a custom operation as a checked JSON payload', async () => {
    const { user, requests } = await open()
    await pick(user, 'Device profile')
    const editor = screen.getByRole('textbox', { name: 'Payload (JSON)' })
    expect(JSON.parse((editor as HTMLTextAreaElement).value)).toEqual({
      name: '',
      version: '',
      operations: [],
    })

    await user.clear(editor)
    await user.paste('{"name": "filler-2026"')
    await user.click(screen.getByRole('button', { name: 'Send device profile' }))
    expect(editor).toHaveAccessibleDescription(/^Not valid JSON/)
    await user.clear(editor)
    await user.paste('{"status": "executing"}')
    await user.click(screen.getByRole('button', { name: 'Send device profile' }))
    expect(editor).toHaveAccessibleDescription('Leave out "status": EdgeTwin sends the command as "init".')
    await user.clear(editor)
    await user.paste('[1, 2]')
    await user.click(screen.getByRole('button', { name: 'Send device profile' }))
    expect(editor).toHaveAccessibleDescription(/must be a JSON object/)
    expect(sentRequests(requests)).toEqual([])

    await user.clear(editor)
    await user.paste('{"name": "filler-2026", "version": "1", "operations": []}')
    await user.click(screen.getByRole('button', { name: 'Send device profile' }))
    await waitFor(() => expect(sentRequests(requests)).toHaveLength(1))

    await pick(user, 'Calibrate scale')
    const custom = screen.getByRole('textbox', { name: 'Payload (JSON)' })
    expect(custom).toHaveValue('{}')
    await user.clear(custom)
    await user.paste('{"weight": 5, "unit": "kg"}')
    await user.click(screen.getByRole('button', { name: 'Send calibrate scale' }))
    await waitFor(() =>
      expect(sentRequests(requests)).toEqual([
        { operation: 'device_profile', payload: { name: 'filler-2026', version: '1', operations: [] } },
        { operation: 'calibrate_scale', payload: { weight: 5, unit: 'kg' } },
      ]),
    )
  })

  it('disables sending while a request is on its way and shows why the core refused it', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = core(({ method }) =>
      method === 'POST' ? failWith(409, 'software_list is already running on device/filler//') : undefined,
    )
    const inner = stubApi(handler.handler)
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === 'POST') await gate
      return inner(input, init)
    })
    const user = userEvent.setup()
    render(EntityOperations, { twin: lineTwin(), entity: filler() })
    await pick(user, 'Software list')
    await user.click(screen.getByRole('button', { name: 'Refresh software list' }))
    expect(screen.getByRole('button', { name: 'Sending…' })).toBeDisabled()

    release()
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The request was not accepted: software_list is already running on device/filler//',
    )
    expect(screen.getByRole('button', { name: 'Refresh software list' })).toBeEnabled()
  })
})

/** Epoch ms as a datetime-local value, as the form shows it (local time). */
function toLocalInput(time: number): string {
  const d = new Date(time)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}
