import type { SeriesRef, SeriesSettings } from '../telemetry/series-settings'
import { AGENT_PROFILES } from './agent-profiles'
import { MOTOR_OVERTEMPERATURE, REJECT_RATE_HIGH, TANK_LEVEL_LOW, VIBRATION_HIGH } from './line-alarms'
import type { ThresholdAlarmSpec } from './threshold-alarm'
import { CONVEYOR_DRIVE, FILLER, TANK, VISION } from './topology'

/** A rule's raise thresholds as chart limits: its first level is low/high, a second low-low/high-high. */
function limitsOf({ direction, levels }: ThresholdAlarmSpec): SeriesSettings['limits'] {
  const [first, second] = levels.map((level) => level.raise)
  return direction === 'low' ? { low: first, lowLow: second } : { high: first, highHigh: second }
}

/** The highest nominal speed the filler's configuration accepts, bottles/min. */
function fillerTopSpeed(): number | undefined {
  const filler = AGENT_PROFILES.find((p) => p.device === FILLER)
  const key = filler?.config
    .flatMap((file) => Object.entries(file.keys))
    .find(([name]) => name === 'nominal_speed_bpm')
  return key?.[1].kind === 'number' ? key[1].max : undefined
}

/**
 * What the built-in simulation knows about its own line's series: the limits its alarm rules judge
 * and the ranges its devices work in. Written as defaults when the simulation runs in the core, only
 * where a series has no settings yet.
 */
export function lineSeriesDefaults(): Array<SeriesRef & { settings: SeriesSettings }> {
  const top = fillerTopSpeed()
  const percent = { min: 0, max: 100 }
  return [
    {
      entity: TANK,
      type: 'tank',
      name: 'level',
      settings: { range: percent, limits: limitsOf(TANK_LEVEL_LOW) },
    },
    {
      entity: CONVEYOR_DRIVE,
      type: 'drive',
      name: 'motor_temperature',
      settings: { limits: limitsOf(MOTOR_OVERTEMPERATURE) },
    },
    {
      entity: CONVEYOR_DRIVE,
      type: 'vibration',
      name: 'velocity_rms',
      settings: { limits: limitsOf(VIBRATION_HIGH) },
    },
    {
      entity: VISION,
      type: 'inspection',
      name: 'reject_rate',
      settings: { limits: limitsOf(REJECT_RATE_HIGH) },
    },
    ...(top
      ? [{ entity: FILLER, type: 'filling', name: 'speed', settings: { range: { min: 0, max: top } } }]
      : []),
  ]
}
