// The measurements of the sync phase (l, m): child devices sampling at a steady period through an
// outage, each message a thin-edge.io measurement with its own `time`. Every message is a pure
// function of (device, round), so the baseline of (m) publishes exactly what the core was sent.

/** Two kinds of equipment, 10 values each: a process line and an energy meter. */
const KINDS = [
  {
    type: 'process',
    series: [
      { name: 'temperature', offset: 62, amplitude: 4, periodS: 900, noise: 0.08, decimals: 2 },
      { name: 'pressure', offset: 4.2, amplitude: 0.3, periodS: 420, noise: 0.01, decimals: 3 },
      { name: 'flow_rate', offset: 18, amplitude: 2.5, periodS: 300, noise: 0.15, decimals: 2 },
      { name: 'level', offset: 55, amplitude: 20, periodS: 1800, noise: 0.2, decimals: 1 },
      { name: 'motor_current', offset: 11, amplitude: 1.8, periodS: 120, noise: 0.12, decimals: 2 },
      { name: 'motor_speed', offset: 1480, amplitude: 12, periodS: 240, noise: 1.5, decimals: 1 },
      { name: 'vibration_x', offset: 2.1, amplitude: 0.4, periodS: 60, noise: 0.06, decimals: 3 },
      { name: 'vibration_y', offset: 1.9, amplitude: 0.35, periodS: 75, noise: 0.06, decimals: 3 },
      { name: 'vibration_z', offset: 0.8, amplitude: 0.2, periodS: 90, noise: 0.04, decimals: 3 },
      { name: 'power', offset: 7.4, amplitude: 1.1, periodS: 120, noise: 0.09, decimals: 2 },
    ],
  },
  {
    type: 'energy',
    series: [
      { name: 'voltage_l1', offset: 230, amplitude: 1.5, periodS: 600, noise: 0.3, decimals: 1 },
      { name: 'voltage_l2', offset: 231, amplitude: 1.5, periodS: 610, noise: 0.3, decimals: 1 },
      { name: 'voltage_l3', offset: 229, amplitude: 1.5, periodS: 590, noise: 0.3, decimals: 1 },
      { name: 'current_l1', offset: 16, amplitude: 3, periodS: 180, noise: 0.1, decimals: 2 },
      { name: 'current_l2', offset: 15, amplitude: 3, periodS: 200, noise: 0.1, decimals: 2 },
      { name: 'current_l3', offset: 17, amplitude: 3, periodS: 190, noise: 0.1, decimals: 2 },
      { name: 'power_factor', offset: 0.93, amplitude: 0.03, periodS: 300, noise: 0.004, decimals: 3 },
      { name: 'frequency', offset: 50, amplitude: 0.02, periodS: 240, noise: 0.01, decimals: 3 },
      { name: 'active_power', offset: 10.5, amplitude: 2, periodS: 180, noise: 0.07, decimals: 2 },
      // A meter's counter: kWh rising at the active power (per second of sampling), no noise.
      {
        name: 'energy_total',
        offset: 15_000,
        amplitude: 0,
        periodS: 1,
        noise: 0,
        decimals: 3,
        perSecond: 0.0029,
      },
    ],
  },
] as const

export const VALUES_PER_SYNC_MESSAGE = 10

export interface SyncLoad {
  devices: number
  /** Messages per device: one per sampling period of the outage. */
  rounds: number
  /** Sampling period of every device, ms. */
  periodMs: number
  /** Time of round 0, epoch ms. */
  startMs: number
}

export const syncDevice = (d: number) => `device/line-${String(d).padStart(3, '0')}//`
export const syncKind = (d: number) => KINDS[d % KINDS.length] as (typeof KINDS)[number]
export const syncTopic = (d: number) => `te/${syncDevice(d)}/m/${syncKind(d).type}`

/** A 32-bit integer hash (murmur3's finalizer) → [0, 1): deterministic noise without state. */
function unit(...keys: number[]): number {
  let h = 0x9e3779b9
  for (const key of keys) {
    h = Math.imul(h ^ key, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return (h >>> 0) / 2 ** 32
}

/** Roughly normal, mean 0, standard deviation 1 (sum of three uniforms, rescaled). */
const normal = (...keys: number[]) => (unit(...keys, 1) + unit(...keys, 2) + unit(...keys, 3) - 1.5) * 2

/**
 * Device d's message of round r: `{"time":<unix s, ms precision>,"temperature":61.93,…}`. Each
 * device has its own phase and a few ms of jitter on its period, as real sampling has.
 */
export function syncMessage(load: SyncLoad, d: number, r: number): string {
  const jitter = Math.floor(unit(d, r, 7) * 40)
  const time = load.startMs + d * 17 + r * load.periodMs + jitter
  const seconds = (time - load.startMs) / 1000
  const fields = [`"time":${(time / 1000).toFixed(3)}`]
  syncKind(d).series.forEach((s, i) => {
    const phase = unit(d, i, 11) * 2 * Math.PI
    const drift = 'perSecond' in s ? s.perSecond * seconds * (1 + d / 100) : 0
    const value =
      s.offset +
      // Devices of a kind differ by up to ± their amplitude; meters by their reading.
      (unit(d, i, 13) - 0.5) * 2 * (s.amplitude || s.offset / 10) +
      drift +
      s.amplitude * Math.sin((2 * Math.PI * seconds) / s.periodS + phase) +
      s.noise * normal(d, r, i)
    fields.push(`"${s.name}":${Number(value.toFixed(s.decimals))}`)
  })
  return `{${fields.join(',')}}`
}
