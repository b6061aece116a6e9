// The series of a device (all, or the first few), for its card: fetched once per device, not per
// update. A device that reported fewer than that when fetched is asked again when a new series shows up.
import { api, type SeriesView } from './api'
import type { Twin } from './twin.svelte'

const RETRY_MS = 2_000

/**
 * Call during component initialisation: the fetch lives as long as the component, and runs again
 * only when the device's id changes (not when its summary object does).
 */
export function keySeries(options: () => { twin: Twin; id: string; limit?: number }): {
  readonly list: SeriesView[]
} {
  const twin = $derived(options().twin)
  const id = $derived(options().id)
  const limit = $derived(options().limit ?? Number.POSITIVE_INFINITY)
  let list = $state<SeriesView[]>([])
  $effect(() => {
    const entity = id
    if (!entity) return
    let stopped = false
    let loadedAt = 0
    const load = () => {
      loadedAt = Date.now()
      api.entity(entity).then(
        (detail) => {
          if (!stopped) list = detail.series.slice(0, limit)
        },
        () => {}, // the card shows no values; the connection state says why
      )
    }
    load()
    const off = twin.onMeasurement((change) => {
      if (change.entity !== entity || list.length >= limit || Date.now() - loadedAt < RETRY_MS) return
      const known = (name: string) => list.some((s) => s.type === change.type && s.name === name)
      if (!Object.keys(change.values).every(known)) load()
    })
    return () => {
      stopped = true
      off()
    }
  })
  return {
    get list() {
      return list
    },
  }
}
