import { render, screen, within } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import OperationDetails from '../../src-renderer/lib/components/OperationDetails.svelte'
import OperationTable from '../../src-renderer/lib/components/OperationTable.svelte'
import { lineTwin, stubApi } from './line-fixture'
import { NOW, operation, operationDetail, state } from './operation-fixture'

const SUMMARY = "Partial failure: Couldn't install/remove some software modules"

/** A software update as thin-edge.io reports a partial failure: each module's reason in `failures`. */
const failedUpdate = () =>
  operation({
    id: 12,
    operation: 'software_update',
    status: 'failed',
    terminal: true,
    reason: SUMMARY,
    finishedAt: NOW - 10_000,
    payload: {
      status: 'failed',
      reason: SUMMARY,
      updateList: [
        {
          type: 'codesys',
          modules: [
            { name: 'filler-recipes', version: '2.4.0', action: 'install' },
            { name: 'plc-runtime', version: '3.12.0', action: 'install' },
          ],
        },
        { type: 'apt', modules: [{ name: 'old-tool', action: 'remove' }] },
      ],
      failures: [
        {
          type: 'codesys',
          modules: [
            {
              name: 'filler-recipes',
              version: '2.4.0',
              action: 'install',
              reason: "Application 'filler-recipes' was not found in the package repository",
            },
          ],
        },
        { type: 'apt', modules: [{ name: 'old-tool', action: 'remove', reason: 'Permission denied' }] },
      ],
    },
  })

describe('Software update failures', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('shows each module’s own reason in the operation’s details, before the summary', async () => {
    const failed = operationDetail(failedUpdate(), [
      state('init', NOW - 60_000),
      state('executing', NOW - 50_000),
      state('failed', NOW - 10_000, SUMMARY),
    ])
    stubApi(({ url }) => (url.pathname === '/api/v1/operations/12' ? failed : undefined))
    render(OperationDetails, { twin: lineTwin(), id: 12 })

    const failures = await screen.findByRole('region', { name: 'These 2 modules failed' })
    expect(
      within(failures)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([
      "Install filler-recipes 2.4.0 (codesys): Application 'filler-recipes' was not found in the package repository",
      'Remove old-tool (apt): Permission denied',
    ])
  })

  it('says nothing more when a failure carries no module reasons', async () => {
    const plain = operationDetail(
      operation({
        id: 13,
        operation: 'restart',
        status: 'failed',
        terminal: true,
        reason: 'The device did not come back',
      }),
      [state('failed', NOW, 'The device did not come back')],
    )
    stubApi(({ url }) => (url.pathname === '/api/v1/operations/13' ? plain : undefined))
    render(OperationDetails, { twin: lineTwin(), id: 13 })
    await screen.findByText('Reason: The device did not come back')
    expect(screen.queryByRole('region', { name: /failed$/ })).toBeNull()
  })

  it('gives the module’s reason in the history row instead of the summary', () => {
    render(OperationTable, {
      twin: lineTwin(),
      operations: [failedUpdate()],
      showEntity: false,
      selected: undefined,
      onselect: () => {},
    })
    const row = screen.getAllByRole('row')[1] as HTMLElement
    expect(row).toHaveTextContent(
      "Install filler-recipes 2.4.0 (codesys): Application 'filler-recipes' was not found in the package repository; Remove old-tool (apt): Permission denied",
    )
    expect(row).not.toHaveTextContent('Partial failure')
  })
})
