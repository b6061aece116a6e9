/** What a technician can change on the line through the devices' configuration files. */
export interface LineSettings {
  /** Filler nominal speed, bottles per minute. */
  nominalSpeedBpm: number
  /** Target fill volume per bottle, mL. */
  fillVolumeMl: number
  /** Capper target closing torque, N·m. */
  capTorqueNm: number
}

/** The factory settings, matching the devices' initial configuration files. */
export const DEFAULT_LINE_SETTINGS: Readonly<LineSettings> = {
  nominalSpeedBpm: 120,
  fillVolumeMl: 500,
  capTorqueNm: 2.2,
}
