import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConfigTypeView } from '../../src-renderer/lib/api'
import EntityConfig from '../../src-renderer/lib/components/EntityConfig.svelte'
import EntityOperations from '../../src-renderer/lib/components/EntityOperations.svelte'
import { lineTwin, stubApi } from './line-fixture'
import {
  FILLER_PATH,
  filler,
  NOW,
  operation,
  operationDetail,
  posted,
  recording,
  state,
  version,
} from './operation-fixture'

const V1 = version(1, 1, 'mode = manual\nspeed = 100\npressure = 2.5\n')
const V2 = version(2, 2, 'mode = auto\nspeed = 100\npressure = 2.5\n', 'update')
const V3 = version(3, 3, 'mode = auto\nspeed = 120\npressure = 2.5\n')
const VERSIONS = [V3, V2, V1]

const CONFIGS: ConfigTypeView[] = [
  { type: 'plc.conf', canSnapshot: true, canUpdate: true, latest: V3 },
  { type: 'recipes.json', canSnapshot: true, canUpdate: true, latest: null },
]

function core(restoreAnswer: () => Response | undefined = () => undefined) {
  return recording(({ method, url, body }) => {
    const path = url.pathname
    if (method === 'GET' && path === '/api/v1/operations') return []
    if (method === 'GET' && path === `${FILLER_PATH}/configs`) return CONFIGS
    if (method === 'GET' && path === `${FILLER_PATH}/configs/plc.conf/versions`) return VERSIONS
    const stored = /^\/api\/v1\/config-versions\/(\d+)$/.exec(path)
    if (method === 'GET' && stored) return VERSIONS.find((v) => v.id === Number(stored[1]))
    if (method === 'POST' && path === `${FILLER_PATH}/configs/plc.conf`)
      return operation({
        id: 42,
        operation: 'config_update',
        payload: { type: 'plc.conf', ...(body as object) },
      })
    if (method === 'POST' && path === '/api/v1/config-versions/2/restore')
      return (
        restoreAnswer() ?? operation({ id: 43, operation: 'config_update', payload: { type: 'plc.conf' } })
      )
    const one = /^\/api\/v1\/operations\/(\d+)$/.exec(path)
    if (one)
      return operationDetail(operation({ id: Number(one[1]), operation: 'config_update' }), [
        state('init', NOW),
      ])
    return undefined
  })
}

/** The lines of a diff as they show, without the words said to screen readers. */
const lines = (region: HTMLElement, selector: string) =>
  [...region.querySelectorAll(selector)].map((line) => line.textContent?.replace(/(Added|Removed): /, ''))

describe('Configuration', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('edits a file from its latest version and sends it only after reviewing the diff', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityOperations, { twin: lineTwin(), entity: filler() })
    await user.click(screen.getByRole('button', { name: 'Config update' }))

    const editor = screen.getByRole('textbox', { name: 'Content' })
    await waitFor(() => expect(editor).toHaveValue(V3.content))
    expect(editor).toHaveAccessibleDescription(/^Starts from version 3 \(snapshot, /)

    await user.click(screen.getByRole('button', { name: 'Review changes' }))
    expect(editor).toHaveAccessibleDescription(/Nothing changed: edit the file before sending it\.$/)

    await user.clear(editor)
    await user.paste('mode = auto\nspeed = 140\npressure = 2.5\n')
    await user.click(screen.getByRole('button', { name: 'Review changes' }))
    const review = screen.getByRole('region', { name: 'Review the changes to plc.conf before sending' })
    expect(review).toHaveFocus()
    expect(review).toHaveTextContent('From version 3 to your edit: 1 line added, 1 line removed.')
    const diff = within(review).getByRole('region', { name: 'Changes from version 3 to your edit' })
    expect(lines(diff, 'del')).toEqual(['−speed = 120'])
    expect(lines(diff, 'ins')).toEqual(['+speed = 140'])
    expect(posted(requests, `${FILLER_PATH}/configs/plc.conf`)).toEqual([])

    await user.click(screen.getByRole('button', { name: 'Back to editing' }))
    expect(screen.getByRole('textbox', { name: 'Content' })).toHaveValue(
      'mode = auto\nspeed = 140\npressure = 2.5\n',
    )
    await user.click(screen.getByRole('button', { name: 'Review changes' }))
    await user.click(screen.getByRole('button', { name: 'Send configuration' }))
    await waitFor(() =>
      expect(posted(requests, `${FILLER_PATH}/configs/plc.conf`)).toEqual([
        { content: 'mode = auto\nspeed = 140\npressure = 2.5\n', baseVersion: 3 },
      ]),
    )
    expect(await screen.findByText('Config update requested as operation #42.')).toBeInTheDocument()

    await user.selectOptions(screen.getByRole('combobox', { name: 'Configuration type' }), 'recipes.json')
    await waitFor(() =>
      expect(screen.getByRole('textbox', { name: 'Content' })).toHaveAccessibleDescription(
        /No version of this file is stored/,
      ),
    )
    expect(screen.getByRole('textbox', { name: 'Content' })).toHaveValue('')
  })

  it('lists the versions of a file, shows one, and compares it with the current one', async () => {
    const { handler } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityConfig, { twin: lineTwin(), entity: filler() })

    const table = await screen.findByRole('table', { name: 'Stored versions of plc.conf, newest first' })
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows.map((row) => within(row).getAllByRole('cell')[0]?.textContent)).toEqual([
      '3 (current)',
      '2',
      '1',
    ])
    expect(rows[1]).toHaveTextContent('sent to device')
    expect(rows[1]).toHaveTextContent('ui')
    expect(within(rows[0] as HTMLElement).queryByRole('button', { name: /Restore/ })).toBeNull()

    await user.click(within(table).getByRole('button', { name: 'View version 2' }))
    expect(screen.getByRole('region', { name: 'Content of version 2' })).toHaveTextContent('mode = auto')
    expect(screen.getByText('/etc/plc/plc.conf')).toBeInTheDocument()

    await user.click(within(table).getByRole('button', { name: 'Compare version 1 with the current one' }))
    expect(
      screen.getByRole('heading', { name: 'Version 1 compared with the current version 3' }),
    ).toBeInTheDocument()
    const diff = screen.getByRole('region', { name: 'Changes from the current version 3 to version 1' })
    expect(lines(diff, 'del')).toEqual(['−mode = auto', '−speed = 120'])
    expect(lines(diff, 'ins')).toEqual(['+mode = manual', '+speed = 100'])
  })

  it('restores a version after a confirmation that shows what changes, then follows the update', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityConfig, { twin: lineTwin(), entity: filler() })
    const table = await screen.findByRole('table', { name: /Stored versions of plc.conf/ })
    const versionReads = () =>
      requests.filter((r) => r.url.pathname === `${FILLER_PATH}/configs/plc.conf/versions`).length

    await user.click(within(table).getByRole('button', { name: 'Restore… version 2' }))
    let dialog = await screen.findByRole('dialog', { name: 'Restore version 2 of plc.conf?' })
    const diff = within(dialog).getByRole('region', {
      name: 'Changes from the current version 3 to version 2',
    })
    expect(lines(diff, 'del')).toEqual(['−speed = 120'])
    expect(lines(diff, 'ins')).toEqual(['+speed = 100'])
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(posted(requests, '/api/v1/config-versions/2/restore')).toEqual([])

    const before = versionReads()
    await user.click(within(table).getByRole('button', { name: 'Restore… version 2' }))
    dialog = await screen.findByRole('dialog', { name: 'Restore version 2 of plc.conf?' })
    await user.click(within(dialog).getByRole('button', { name: 'Restore' }))
    await waitFor(() =>
      expect(posted(requests, '/api/v1/config-versions/2/restore')).toEqual([{ baseVersion: 3 }]),
    )
    expect(await screen.findByRole('heading', { name: 'Config update #43' })).toBeInTheDocument()
    await waitFor(() => expect(versionReads()).toBeGreaterThan(before))
  })

  it('a restore overtaken by another version is refused with its reason and the list read again', async () => {
    const error = 'plc.conf of Filler PLC changed since the edit started from version 3: it is now version 4.'
    const current = version(4, 4, 'mode = auto\nspeed = 130\npressure = 2.5\n', 'update')
    const { handler, requests } = core(
      () =>
        new Response(JSON.stringify({ error, current }), {
          status: 409,
          headers: { 'content-type': 'application/json' },
        }),
    )
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityConfig, { twin: lineTwin(), entity: filler() })
    const table = await screen.findByRole('table', { name: /Stored versions of plc.conf/ })
    const versionReads = () =>
      requests.filter((r) => r.url.pathname === `${FILLER_PATH}/configs/plc.conf/versions`).length
    await user.click(within(table).getByRole('button', { name: 'Restore… version 2' }))
    const dialog = await screen.findByRole('dialog', { name: 'Restore version 2 of plc.conf?' })
    const before = versionReads()
    await user.click(within(dialog).getByRole('button', { name: 'Restore' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not restore version 2: plc.conf of Filler PLC changed since the edit started from version 3: it is now version 4.',
    )
    expect(posted(requests, '/api/v1/config-versions/2/restore')).toEqual([{ baseVersion: 3 }])
    await waitFor(() => expect(versionReads()).toBeGreaterThan(before))
  })
})
