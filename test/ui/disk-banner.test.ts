import { render, screen } from '@testing-library/svelte'
import { describe, expect, it, vi } from 'vitest'
import type { StatusView } from '../../src-main/core/api/types'
import DiskBanner from '../../src-renderer/lib/components/DiskBanner.svelte'
import { lineTwin } from './line-fixture'

const MiB = 1024 * 1024

function status(disk: Partial<StatusView['disk']>): StatusView {
  return {
    version: '0.1.0',
    startedAt: 0,
    uptimeSeconds: 1,
    broker: { mode: 'embedded', url: 'mqtt://127.0.0.1:1883', connected: true },
    ingest: { received: 0, rejected: 0, refused: 0, values: 0, pendingWrites: 0 },
    store: { file: 'edgetwin.db', bytes: 0 },
    disk: { condition: 'ok', freeBytes: 900 * MiB, reserveBytes: 64 * MiB, since: 0, reason: null, ...disk },
    logs: { dropped: 0, error: null },
    entities: 10,
    pendingRegistrations: [],
    pendingRegistrationCount: 0,
    simulation: false,
  }
}

describe('DiskBanner', () => {
  it('says nothing while the disk has room', () => {
    const twin = lineTwin()
    twin.status = status({})
    render(DiskBanner, { twin })
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('says why new data is refused while the disk is below its reserve or full, until it has room', async () => {
    const twin = lineTwin()
    twin.status = status({ condition: 'low', freeBytes: 12 * MiB })
    render(DiskBanner, { twin })
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Disk almost full New data from devices is refused until space is freed: 12 MB free, 64 MB kept in reserve.',
    )
    expect(screen.queryByRole('button')).toBeNull()

    twin.status = status({ condition: 'full', freeBytes: 0 })
    expect(await screen.findByText('Disk full')).toBeInTheDocument()
    twin.status = status({ condition: 'ok' })
    await vi.waitFor(() => expect(screen.queryByRole('alert')).toBeNull())
  })
})
