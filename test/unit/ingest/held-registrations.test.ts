import { describe, expect, it } from 'vitest'
import { ClientQuota } from '../../../src-main/core/ingest/client-quota'
import { HeldRegistrations } from '../../../src-main/core/ingest/held-registrations'
import type { Registration } from '../../../src-main/core/ingest/registrar'

const registration = (topicId: string, parent: string): Registration => ({
  topicId,
  type: 'child-device',
  parent,
  externalId: undefined,
  healthEndpoint: undefined,
  payload: { '@type': 'child-device', '@parent': parent },
})

const hold = (held: HeldRegistrations, topicId: string, parent: string) =>
  held.hold(registration(topicId, parent), parent)

describe('registrations held for their parent', () => {
  it('a child waits under one parent at a time: holding it again moves it', () => {
    const held = new HeldRegistrations()
    hold(held, 'device/valve//', 'device/bank-a//')
    hold(held, 'device/valve//', 'device/bank-b//')
    expect(held.size).toBe(1)
    expect(held.release('device/bank-a//')).toEqual([])
    expect(held.release('device/bank-b//').map((r) => r.parent)).toEqual(['device/bank-b//'])
    expect(held.size).toBe(0)
    expect(held.has('device/valve//')).toBe(false)
  })

  it('a parent releases its children in arrival order, and only them', () => {
    const held = new HeldRegistrations()
    for (const child of ['c', 'a', 'b']) hold(held, `device/${child}//`, 'device/hub//')
    hold(held, 'device/other//', 'device/elsewhere//')
    expect(held.release('device/hub//').map((r) => r.topicId)).toEqual([
      'device/c//',
      'device/a//',
      'device/b//',
    ])
    expect(held.release('device/hub//')).toEqual([])
    expect(held.size).toBe(1)
  })

  it('dropping forgets a child; the sample names the oldest, at most as many as asked', () => {
    const held = new HeldRegistrations()
    for (let k = 0; k < 50_000; k++) hold(held, `device/h${k}//`, `device/nop${k}//`)
    held.drop('device/h0//')
    held.drop('device/never-held//')
    expect(held.size).toBe(49_999)
    expect(held.sample(3)).toEqual(['device/h1//', 'device/h2//', 'device/h3//'])
    expect(held.release('device/nop0//')).toEqual([])
  })
})

describe('auto-registrations per client', () => {
  it('counts each entity once for the client whose data registered it, and gives the place back on removal', () => {
    const quota = new ClientQuota()
    quota.add('bridge', 'device/a//')
    quota.add('bridge', 'device/a//')
    quota.add('bridge', 'device/b//')
    quota.add('other', 'device/c//')
    expect([quota.count('bridge'), quota.count('other'), quota.count('nobody')]).toEqual([2, 1, 0])
    quota.remove('device/a//')
    quota.remove('device/unknown//')
    expect(quota.count('bridge')).toBe(1)
    quota.remove('device/c//')
    expect(quota.count('other')).toBe(0)
  })
})
