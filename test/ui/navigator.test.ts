import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { flushSync } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EntitySummary } from '../../src-renderer/lib/api'
import Navigator from '../../src-renderer/lib/components/Navigator.svelte'
import { buildHierarchy, filterHierarchy, visibleRows } from '../../src-renderer/lib/hierarchy'
import { alarm, entity, LINE, lineTwin } from './line-fixture'

/** The tree item the keyboard is on: the tree keeps the focus and points at it. */
function active(): HTMLElement | null {
  const tree = screen.getByRole('tree')
  expect(tree).toHaveFocus()
  return document.getElementById(tree.getAttribute('aria-activedescendant') ?? '')
}

const names = () =>
  screen.getAllByRole('treeitem').map((item) => item.getAttribute('aria-label')?.split(',')[0])

/** A main device with 37 machines, each with a drive and 25 services: 1,000 entities. */
function plant(): EntitySummary[] {
  const entities = [entity('device/main//', 'Plant', null, 'device')]
  for (let d = 0; d < 37; d++) {
    const device = `device/machine-${d}//`
    entities.push(entity(device, `Machine ${d}`, 'device/main//'))
    entities.push(entity(`device/drive-${d}//`, `Drive ${d}`, device))
    for (let s = 0; s < 25; s++)
      entities.push(
        entity(`device/machine-${d}/service/svc-${s}`, `agent-${d}-${s}`, device, 'service', 'up'),
      )
  }
  return entities
}

describe('Navigator', () => {
  beforeEach(() => {
    location.hash = '#/'
  })
  afterEach(() => {
    location.hash = '#/'
  })

  it('shows the hierarchy as a tree: main device, nested child devices, services last', () => {
    render(Navigator, { twin: lineTwin() })
    const tree = screen.getByRole('tree', { name: 'Equipment' })
    const main = within(tree).getByRole('treeitem', { name: /^Filling Line 3/ })
    expect(main).toHaveAttribute('aria-level', '1')
    expect(main).toHaveAttribute('aria-expanded', 'true')
    expect(within(tree).getByRole('treeitem', { name: /^Fill Valve Bank/ })).toHaveAttribute(
      'aria-level',
      '3',
    )
    expect(within(tree).getByRole('treeitem', { name: /^condition-monitoring, service/ })).toHaveAttribute(
      'aria-level',
      '4',
    )
    expect(names()).toEqual([
      'Filling Line 3',
      'Buffer Tank T-301',
      'Filler PLC',
      'Fill Valve Bank',
      'plc-runtime',
      'Outfeed Conveyor',
      'Conveyor Drive VFD',
      'condition-monitoring',
      'edgetwin',
      'line-controller',
    ])
    expect(screen.getByRole('treeitem', { name: /^Conveyor Drive VFD/ })).toHaveAccessibleName(
      'Conveyor Drive VFD, health down',
    )
  })

  it('moves, collapses and expands with the arrow keys and opens an entity with Enter', async () => {
    const user = userEvent.setup()
    render(Navigator, { twin: lineTwin() })
    await user.tab() // the filter
    await user.tab() // the tree
    const main = screen.getByRole('treeitem', { name: /^Filling Line 3/ })
    expect(active()).toBe(main)

    await user.keyboard('{ArrowDown}{ArrowDown}')
    const filler = screen.getByRole('treeitem', { name: /^Filler PLC/ })
    expect(active()).toBe(filler)

    await user.keyboard('{ArrowLeft}')
    expect(filler).toHaveAttribute('aria-expanded', 'false')
    expect(screen.queryByRole('treeitem', { name: /^Fill Valve Bank/ })).toBeNull()

    await user.keyboard('{ArrowLeft}') // collapsed: to the parent
    expect(active()).toBe(main)
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowRight}')
    expect(filler).toHaveAttribute('aria-expanded', 'true')
    await user.keyboard('{ArrowRight}') // expanded: to the first child
    expect(active()).toBe(screen.getByRole('treeitem', { name: /^Fill Valve Bank/ }))

    await user.keyboard('{End}')
    expect(active()).toBe(screen.getByRole('treeitem', { name: /^line-controller/ }))
    await user.keyboard('{Home}{ArrowDown}{Enter}')
    await waitFor(() => expect(location.hash).toBe('#/entity/device%2Ftank%2F%2F'))
    await waitFor(() =>
      expect(screen.getByRole('treeitem', { name: /^Buffer Tank/ })).toHaveAttribute('aria-current', 'page'),
    )
  })

  it('collapses and expands a subtree by clicking its twisty', async () => {
    const user = userEvent.setup()
    const { container } = render(Navigator, { twin: lineTwin() })
    const conveyor = screen.getByRole('treeitem', { name: /^Outfeed Conveyor/ })
    await user.click(conveyor.querySelector('.twisty') as Element)
    expect(conveyor).toHaveAttribute('aria-expanded', 'false')
    expect(screen.queryByRole('treeitem', { name: /^Conveyor Drive VFD/ })).toBeNull()
    expect(location.hash).toBe('#/') // toggling does not navigate
    await user.click(container.querySelector('[data-id="device/conveyor//"] .twisty') as Element)
    expect(screen.getByRole('treeitem', { name: /^Conveyor Drive VFD/ })).toBeInTheDocument()
  })

  it('filters by name or type and keeps the ancestors of matches', async () => {
    const user = userEvent.setup()
    render(Navigator, { twin: lineTwin() })
    await user.type(screen.getByRole('searchbox', { name: /filter equipment/i }), 'drive')
    expect(names()).toEqual(['Filling Line 3', 'Outfeed Conveyor', 'Conveyor Drive VFD'])
    expect(screen.getByRole('status')).toHaveTextContent('1 of 10 match')

    await user.clear(screen.getByRole('searchbox'))
    await user.type(screen.getByRole('searchbox'), 'service plc')
    expect(names()).toEqual(['Filling Line 3', 'Filler PLC', 'plc-runtime'])

    await user.clear(screen.getByRole('searchbox'))
    await user.type(screen.getByRole('searchbox'), 'nothing like this')
    expect(screen.queryAllByRole('treeitem')).toHaveLength(0)
    expect(screen.getByText(/Nothing matches/)).toBeInTheDocument()
  })

  it('badges each subtree with its count of open alarms, the worst severity and what is unacknowledged', () => {
    const alarms = [
      alarm('device/conveyor-drive//', 'overtemperature', 'critical'),
      alarm('device/valve-bank//', 'valve_stuck', 'minor'),
      alarm('device/filler//', 'pressure_low', 'major'),
      alarm('device/tank//', 'level_low', 'major', 'acknowledged'),
    ]
    render(Navigator, { twin: lineTwin(LINE, alarms) })
    expect(screen.getByRole('treeitem', { name: /^Filling Line 3/ })).toHaveAccessibleName(
      'Filling Line 3, health unknown, 4 open alarms, worst critical, 3 unacknowledged',
    )
    expect(screen.getByRole('treeitem', { name: /^Filler PLC/ })).toHaveAccessibleName(
      'Filler PLC, health up, 2 open alarms, worst major',
    )
    expect(screen.getByRole('treeitem', { name: /^Buffer Tank/ })).toHaveAccessibleName(
      'Buffer Tank T-301, health unknown, 1 open alarm, worst major, acknowledged',
    )
    expect(screen.getByRole('treeitem', { name: /^Outfeed Conveyor/ })).toHaveAccessibleName(
      'Outfeed Conveyor, health unknown, 1 open alarm, worst critical',
    )
    expect(screen.getByRole('treeitem', { name: /^Fill Valve Bank/ })).toHaveAccessibleName(
      'Fill Valve Bank, health unknown, 1 open alarm, worst minor',
    )
  })

  it('reveals the current entity when it is opened elsewhere', async () => {
    render(Navigator, { twin: lineTwin() })
    await fireEvent.click(
      screen.getByRole('treeitem', { name: /^Outfeed Conveyor/ }).querySelector('.twisty') as Element,
    )
    expect(screen.queryByRole('treeitem', { name: /^Conveyor Drive VFD/ })).toBeNull()
    location.hash = '#/entity/device%2Fconveyor-drive%2F%2F'
    await waitFor(() =>
      expect(screen.getByRole('treeitem', { name: /^Conveyor Drive VFD/ })).toHaveAttribute(
        'aria-current',
        'page',
      ),
    )
  })

  // How fast is measured in real Chromium by `npm run bench` (bench/ui-tree-filter.ts), not asserted here.
  it('filters 1,000 entities, rendering only a window of the matches', async () => {
    const entities = plant()
    expect(entities).toHaveLength(1000)

    // The work of one keystroke, without rendering: filter and list the rows.
    const hierarchy = buildHierarchy(entities)
    const filtered = filterHierarchy(hierarchy, 'drive 3')
    const rows = visibleRows(hierarchy, () => false, filtered)
    expect(filtered.matches.size).toBe(10) // Drive 3, 13, 23 and 30–36
    expect(rows).toHaveLength(1 + 10 + 10) // the plant, each machine, each drive

    // And in the component: type one more character, render the tree again.
    render(Navigator, { twin: lineTwin(entities) })
    expect(screen.getAllByRole('treeitem')).toHaveLength(1 + 37) // large: only the first level open
    const input = screen.getByRole('searchbox')
    await fireEvent.input(input, { target: { value: 'drive 3' } })
    await fireEvent.input(input, { target: { value: 'drive 32' } })
    flushSync()
    expect(names()).toEqual(['Plant', 'Machine 32', 'Drive 32'])

    // A filter matching nearly everything renders only a window of the rows.
    await fireEvent.input(input, { target: { value: 'a' } })
    flushSync()
    expect(screen.getByRole('status')).toHaveTextContent('963 of 1000 match') // all but the drives
    expect(screen.getAllByRole('treeitem').length).toBeLessThan(60)
    expect(screen.getAllByRole('treeitem')[0]).toHaveAttribute('aria-setsize', '1')
  })
})
