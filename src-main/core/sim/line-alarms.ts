import { type AlarmOut, round } from './line-output'
import { type AlarmChange, type Severity, ThresholdAlarm, type ThresholdAlarmSpec } from './threshold-alarm'
import { CONVEYOR_DRIVE, TANK, VISION } from './topology'

/** The readings the line's alarms judge, after one simulated second. */
export interface AlarmInputs {
  /** Buffer tank level, %. */
  tankLevel: number
  /** Conveyor drive vibration velocity, mm/s RMS. */
  vibration: number
  /** Line speed as a fraction of nominal, 0–1. */
  speed: number
  /** Conveyor motor winding temperature, °C. */
  motorTemp: number
  /** Vision reject rate, %. */
  rejectRate: number
  /** Bottles inspected this second; the reject rate is only judged while bottles pass. */
  bottles: number
}

/** Buffer tank level, %: low while below 15, back to normal above 25. */
export const TANK_LEVEL_LOW: ThresholdAlarmSpec = {
  direction: 'low',
  levels: [{ severity: 'major', raise: 15, clear: 25 }],
}
/** Conveyor drive vibration, mm/s RMS: velocity zones in the spirit of ISO 10816 for a small motor. */
export const VIBRATION_HIGH: ThresholdAlarmSpec = {
  direction: 'high',
  levels: [
    { severity: 'minor', raise: 4.5, clear: 4 },
    { severity: 'major', raise: 7.1, clear: 6.5 },
  ],
}
/** Conveyor motor winding temperature, °C. */
export const MOTOR_OVERTEMPERATURE: ThresholdAlarmSpec = {
  direction: 'high',
  levels: [{ severity: 'critical', raise: 90, clear: 80 }],
}
/** Vision reject rate, %. */
export const REJECT_RATE_HIGH: ThresholdAlarmSpec = {
  direction: 'high',
  levels: [{ severity: 'warning', raise: 5, clear: 3 }],
}

/** The line's alarm rules: thresholds with hysteresis so noisy readings do not make an alarm flap. */
export class LineAlarms {
  private readonly tankLow = new ThresholdAlarm(TANK_LEVEL_LOW)
  private readonly vibrationHigh = new ThresholdAlarm(VIBRATION_HIGH)
  private readonly overTemperature = new ThresholdAlarm(MOTOR_OVERTEMPERATURE)
  private readonly rejectRateHigh = new ThresholdAlarm(REJECT_RATE_HIGH)

  constructor(private vibrationAverage: number) {}

  get vibrationSeverity(): Severity | null {
    return this.vibrationHigh.severity
  }

  evaluate(r: AlarmInputs, alarms: AlarmOut[]): void {
    const push = (entity: string, type: string, change: AlarmChange, text: string, cleared: string) => {
      if (change !== undefined) alarms.push({ entity, type, severity: change, text: change ? text : cleared })
    }
    push(
      TANK,
      'level_low',
      this.tankLow.update(r.tankLevel),
      `Buffer tank level low: ${round(r.tankLevel, 1)} %`,
      'Buffer tank level back to normal',
    )
    // Condition monitoring judges a 30 s average, and only at steady running speed.
    if (r.speed > 0.8) {
      this.vibrationAverage += (r.vibration - this.vibrationAverage) / 30
      const avg = this.vibrationAverage
      push(
        CONVEYOR_DRIVE,
        'vibration_high',
        this.vibrationHigh.update(avg),
        `High vibration on conveyor drive: ${round(avg, 2)} mm/s RMS (30 s average)`,
        'Vibration back to normal',
      )
    }
    push(
      CONVEYOR_DRIVE,
      'motor_overtemperature',
      this.overTemperature.update(r.motorTemp),
      `Conveyor motor over-temperature: ${round(r.motorTemp, 1)} °C`,
      'Motor temperature back to normal',
    )
    if (r.bottles > 0) {
      push(
        VISION,
        'reject_rate_high',
        this.rejectRateHigh.update(r.rejectRate),
        `Vision reject rate high: ${round(r.rejectRate, 1)} %`,
        'Vision reject rate back to normal',
      )
    }
  }
}
