// The configuration editor's starting version: after an update it starts from the version just
// applied, a review compares with what the device has now, a refused (409) or failed send keeps
// the user's text.
import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConfigVersionDetail } from '../../src-renderer/lib/api'
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

const TORQUE_32 = 'target_torque_nm = 3.2\n# tolerance\ntorque_tolerance_nm = 0.3\nchuck_speed_rpm = 320\n'
const TORQUE_42 = TORQUE_32.replace('3.2', '4.2')
const V1 = version(1, 1, TORQUE_32)
const V2 = version(2, 2, TORQUE_42, 'update')
const UPDATE = `${FILLER_PATH}/configs/plc.conf`

/** A core whose latest plc.conf version is whatever `device.latest` is when asked. */
function core(device: { latest: ConfigVersionDetail }, answer?: () => Response | undefined) {
  return recording(({ method, url }) => {
    const path = url.pathname
    if (method === 'GET' && path === '/api/v1/operations') return []
    if (method === 'GET' && path === `${FILLER_PATH}/configs`)
      return [{ type: 'plc.conf', canSnapshot: true, canUpdate: true, latest: device.latest }]
    const stored = /^\/api\/v1\/config-versions\/(\d+)$/.exec(path)
    if (method === 'GET' && stored) return [V1, V2, device.latest].find((v) => v.id === Number(stored[1]))
    if (method === 'GET' && path === '/api/v1/operations/42')
      return operationDetail(operation({ id: 42, operation: 'config_update', status: 'executing' }), [
        state('init', NOW),
        state('executing', NOW),
      ])
    if (method === 'POST' && path === UPDATE)
      return answer?.() ?? operation({ id: 42, operation: 'config_update', payload: { type: 'plc.conf' } })
    return undefined
  })
}

async function openEditor() {
  const twin = lineTwin()
  const user = userEvent.setup()
  render(EntityOperations, { twin, entity: filler() })
  await user.click(screen.getByRole('button', { name: 'Config update' }))
  const editor = screen.getByRole('textbox', { name: 'Content' })
  return { twin, user, editor }
}

async function editAndSend(user: ReturnType<typeof userEvent.setup>, editor: HTMLElement, text: string) {
  await user.clear(editor)
  await user.paste(text)
  await user.click(screen.getByRole('button', { name: 'Review changes' }))
  await user.click(await screen.findByRole('button', { name: 'Send configuration' }))
}

const finished = (status: 'successful' | 'failed', reason: string | null = null) =>
  operation({ id: 42, operation: 'config_update', status, terminal: true, reason })

describe('Configuration update base', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('starts the next edit from the version just applied, not the one before it', async () => {
    const device = { latest: V1 }
    const { handler, requests } = core(device)
    stubApi(handler)
    const { twin, user, editor } = await openEditor()
    await waitFor(() => expect(editor).toHaveValue(TORQUE_32))

    await editAndSend(user, editor, TORQUE_42)
    expect(posted(requests, UPDATE)).toEqual([{ content: TORQUE_42, baseVersion: 1 }])
    const waiting = screen.getByRole('textbox', { name: 'Content' })
    expect(waiting).toHaveAccessibleDescription(/^Sent as operation #42: waiting for Filler PLC to apply it/)
    expect(waiting).toHaveValue(TORQUE_42)
    // Reviewing now would compare with version 1, which update A is about to replace.
    await user.click(screen.getByRole('button', { name: 'Review changes' }))
    await waitFor(() =>
      expect(waiting).toHaveAccessibleDescription(
        /Wait until Filler PLC has applied the configuration sent as operation #42\.$/,
      ),
    )

    // The core stores version 2 before it announces the end.
    device.latest = V2
    twin.updateOperation(finished('successful'))
    await waitFor(() => expect(waiting).toHaveAccessibleDescription(/^Starts from version 2 \(update, /))
    expect(waiting).toHaveValue(TORQUE_42)

    // Edit B changes only the tolerance: the review and the send keep torque 4.2.
    await editAndSend(user, waiting, TORQUE_42.replace('0.3', '0.4'))
    expect(posted(requests, UPDATE)[1]).toEqual({ content: TORQUE_42.replace('0.3', '0.4'), baseVersion: 2 })
  })

  it('shows what the device has now instead of a review against a replaced version', async () => {
    const device = { latest: V1 }
    const { handler, requests } = core(device)
    stubApi(handler)
    const { user, editor } = await openEditor()
    await waitFor(() => expect(editor).toHaveValue(TORQUE_32))

    // Someone else's update (torque 4.2) lands while this edit (tolerance 0.4) is typed.
    device.latest = V2
    await user.clear(editor)
    await user.paste(TORQUE_32.replace('0.3', '0.4'))
    await user.click(screen.getByRole('button', { name: 'Review changes' }))

    const panel = await screen.findByRole('region', {
      name: "The device's configuration changed since you started editing",
    })
    expect(panel).toHaveFocus()
    expect(panel).toHaveTextContent('You started from version 1 of plc.conf; the device now has version 2')
    const diff = within(panel).getByRole('region', { name: 'Changes from version 2 (current) to your edit' })
    expect(diff).toHaveTextContent('Removed: target_torque_nm = 4.2')
    expect(posted(requests, UPDATE)).toEqual([])

    await user.click(
      within(panel).getByRole('button', { name: 'Apply only my changes to version 2 (current)' }),
    )
    const review = screen.getByRole('region', { name: 'Review the changes to plc.conf before sending' })
    expect(review).toHaveTextContent('From version 2 to your edit: 1 line added, 1 line removed.')
    await user.click(within(review).getByRole('button', { name: 'Send configuration' }))
    await waitFor(() =>
      expect(posted(requests, UPDATE)).toEqual([
        { content: TORQUE_42.replace('0.3', '0.4'), baseVersion: 2 },
      ]),
    )
  })

  it('a send refused as stale (409) shows the difference and keeps the text to re-base', async () => {
    const device = { latest: V1 }
    let refuse = true
    const { handler, requests } = core(device, () => {
      if (!refuse) return undefined
      refuse = false
      // The device got version 2 between the review and the send.
      device.latest = V2
      return new Response(
        JSON.stringify({
          error: 'plc.conf of Filler changed since the edit started from version 1: it is now version 2.',
          current: V2,
        }),
        { status: 409, headers: { 'content-type': 'application/json' } },
      )
    })
    stubApi(handler)
    const { user, editor } = await openEditor()
    await waitFor(() => expect(editor).toHaveValue(TORQUE_32))
    const mine = TORQUE_32.replace('0.3', '0.4')
    await editAndSend(user, editor, mine)

    const panel = await screen.findByRole('region', {
      name: "The device's configuration changed since you started editing",
    })
    expect(panel).toHaveTextContent('Nothing was sent.')
    expect(screen.getByRole('alert')).toHaveTextContent('it is now version 2')
    const diff = within(panel).getByRole('region', { name: 'Changes from version 2 (current) to your edit' })
    expect(diff).toHaveTextContent('Removed: target_torque_nm = 4.2')
    expect(diff).toHaveTextContent('Added: target_torque_nm = 3.2')

    await user.click(within(panel).getByRole('button', { name: 'Keep my text and edit it' }))
    const rebased = screen.getByRole('textbox', { name: 'Content' })
    expect(rebased).toHaveValue(mine)
    expect(rebased).toHaveAccessibleDescription(/^Starts from version 2 \(update, /)
    await user.click(screen.getByRole('button', { name: 'Review changes' }))
    expect(
      screen.getByRole('region', { name: 'Review the changes to plc.conf before sending' }),
    ).toHaveTextContent('From version 2 to your edit: 2 lines added, 2 lines removed.')
    await user.click(screen.getByRole('button', { name: 'Send configuration' }))
    await waitFor(() => expect(posted(requests, UPDATE)).toHaveLength(2))
    expect(posted(requests, UPDATE)[1]).toEqual({ content: mine, baseVersion: 2 })
  })

  it('keeps the text after the device refuses the configuration, so a typo is fixed, not retyped', async () => {
    const device = { latest: V1 }
    const { handler, requests } = core(device)
    stubApi(handler)
    const { twin, user, editor } = await openEditor()
    await waitFor(() => expect(editor).toHaveValue(TORQUE_32))
    const typo = TORQUE_32.replace('3.2', '42')
    await editAndSend(user, editor, typo)

    twin.updateOperation(
      finished('failed', 'Invalid plc.conf, line 1: target_torque_nm = 42 is out of range (0.8..5 N·m)'),
    )
    const kept = await screen.findByText(/Filler PLC did not apply the configuration: Invalid plc\.conf/)
    expect(kept).toHaveTextContent('Your edit is still here: correct it and send it again.')
    const again = screen.getByRole('textbox', { name: 'Content' })
    expect(again).toHaveValue(typo)
    expect(again).toHaveAccessibleDescription(/^Starts from version 1 /)

    await editAndSend(user, again, typo.replace('= 42', '= 4.2'))
    expect(posted(requests, UPDATE)[1]).toEqual({ content: TORQUE_42, baseVersion: 1 })
  })
})
