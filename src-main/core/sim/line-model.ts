import { BatchRunner } from './batches'
import { LineAlarms } from './line-alarms'
import { type AlarmOut, type EventOut, type MeasurementOut, round, type TickOutput } from './line-output'
import { DEFAULT_LINE_SETTINGS, type LineSettings } from './line-settings'
import { createPrng, type Prng } from './prng'
import {
  CAPPER,
  CONVEYOR,
  CONVEYOR_DRIVE,
  FILLER,
  MAIN,
  TANK,
  VALVE_BANK,
  VALVE_NAMES,
  VISION,
} from './topology'

/** Simulated seconds per tick: the model is independent of wall-clock speed (`tickMs` only sets the pace). */
export const TICK_SECONDS = 1

const TANK_LITERS = 300
const INLET_LITERS_PER_S = 1.8
/** Inlet valve hysteresis band, % of tank. */
const INLET_OPEN_BELOW = 35
const INLET_CLOSE_ABOVE = 80
/** Below this the filler pump would run dry, so the line stops until the tank recovers. */
const STARVED_BELOW = 3
const STARVED_RESUME_ABOVE = 10
const AMBIENT_C = 24
const MOTOR_THERMAL_TAU_S = 240
const THERMAL_TRIP_C = 95
const THERMAL_RESET_C = 70
/** Vibration of a healthy bearing at full speed, mm/s RMS. */
const VIBRATION_BASE = 1.8
/** Bearing wear adds this much vibration per second at full speed: about +2 mm/s per hour. */
const WEAR_PER_RUNNING_S = 0.0006
const BASE_REJECT_PROBABILITY = 0.008
/** The reject rate is an exponential average over roughly this many bottles. */
const REJECT_WINDOW_BOTTLES = 200

type StopReason = 'door' | 'changeover' | 'starved' | 'thermal_trip' | 'maintenance' | 'restart'

const STOP_TEXT: Record<StopReason, string> = {
  door: 'guard door open',
  changeover: 'product changeover',
  starved: 'buffer tank empty',
  thermal_trip: 'conveyor drive thermal trip',
  maintenance: 'conveyor drive maintenance',
  restart: 'equipment restarting',
}

/**
 * The filling line's physics and operations: a pure function of (seed, tick index). Each `step()`
 * advances one simulated second and returns what the devices would publish.
 */
export class LineModel {
  private readonly rng: Prng
  private tick = 0

  private tankLevel: number
  private inletOpen = false
  private supplyOk = true
  private nextOutageIn: number
  private outageLeft = 0
  private productTemp = 6

  private readonly stopped = new Set<StopReason>()
  private doorLeft = 0
  private changeoverLeft = 0
  private maintenanceLeft = 0
  private speed = 0
  private bottleFraction = 0
  private fillPressure = 1.1

  private filled = 0
  private inspected = 0
  private rejected = 0
  private capped = 0
  private capTorque = 0
  private rejectRate = BASE_REJECT_PROBABILITY
  private rejectProbability = BASE_REJECT_PROBABILITY
  private labelDriftLeft = 0

  private readonly batches: BatchRunner

  private motorTemp = AMBIENT_C + 8
  private fanFailed = false
  private fanRepairIn = 0
  private wear: number
  private vibrationMajorFor = 0
  private readonly valveBias: number[]

  private throughput = 0
  private runningTicks = 0

  private readonly alarms = new LineAlarms(VIBRATION_BASE)
  private readonly settings: LineSettings = { ...DEFAULT_LINE_SETTINGS }
  private held = false

  constructor(seed: number) {
    this.rng = createPrng(seed)
    this.batches = new BatchRunner(this.rng)
    this.tankLevel = this.rng.between(45, 75)
    this.nextOutageIn = this.rng.int(60, 240)
    this.wear = this.rng.between(0, 2.4)
    this.valveBias = VALVE_NAMES.map(() => this.rng.between(-0.03, 0.03))
  }

  /** Applies changed settings from the next step on (a configuration update on a device). */
  configure(settings: Partial<LineSettings>): void {
    Object.assign(this.settings, settings)
  }

  /** A device the line cannot run without is restarting: the line stops until it is back. */
  hold(held: boolean): void {
    this.held = held
  }

  step(): TickOutput {
    const rng = this.rng
    const events: EventOut[] = []
    const alarms: AlarmOut[] = []
    const wasRunning = this.stopped.size === 0
    const stopsBefore = new Set(this.stopped)

    if (this.tick === 0) this.batches.start(events)
    // Applied within the step, so the stop and the restart are reported like any other.
    if (this.held) this.stopped.add('restart')
    else this.stopped.delete('restart')
    this.disturb(events, wasRunning)

    const running = this.stopped.size === 0
    if (running) this.runningTicks++
    // Ramps: about 10 s to full speed, 4 s to stop.
    this.speed += Math.max(-0.25, Math.min(0.1, (running ? 1 : 0) - this.speed))

    const bottlesPerS = this.settings.nominalSpeedBpm / 60
    const bottleLiters = this.settings.fillVolumeMl / 1000
    // Bottles: whole bottles only, the fraction carries to the next tick.
    this.bottleFraction += bottlesPerS * this.speed * TICK_SECONDS
    const bottles = Math.min(Math.floor(this.bottleFraction), this.batches.remaining)
    this.bottleFraction -= bottles
    if (!running && this.speed === 0) this.bottleFraction = 0
    let rejects = 0
    for (let i = 0; i < bottles; i++) {
      const reject = rng.chance(this.rejectProbability)
      if (reject) rejects++
      this.rejectRate += ((reject ? 1 : 0) - this.rejectRate) / REJECT_WINDOW_BOTTLES
    }
    if (bottles > 0) this.capTorque = this.settings.capTorqueNm + rng.gauss(0.06)
    this.filled += bottles
    this.capped += bottles
    this.inspected += bottles
    this.rejected += rejects
    this.throughput += (bottles * 60 - this.throughput) * 0.05

    // Buffer tank: the inlet valve holds the level in its hysteresis band unless the supply is out.
    if (this.tankLevel < INLET_OPEN_BELOW) this.inletOpen = true
    else if (this.tankLevel > INLET_CLOSE_ABOVE) this.inletOpen = false
    const inflow = this.inletOpen && this.supplyOk ? INLET_LITERS_PER_S : 0
    const outflow = bottles * bottleLiters
    this.tankLevel = Math.max(0, Math.min(100, this.tankLevel + ((inflow - outflow) / TANK_LITERS) * 100))
    // Fresh chilled product cools the tank; standing product warms slowly towards the hall.
    this.productTemp += ((inflow > 0 ? 4.5 : 14) - this.productTemp) / 1200 + rng.gauss(0.01)
    if (this.tankLevel < STARVED_BELOW) this.stopped.add('starved')
    else if (this.tankLevel > STARVED_RESUME_ABOVE) this.stopped.delete('starved')

    // Fill pressure (bar): headspace pressure at idle, pump pressure plus a little hydrostatic head when running.
    const pressureTarget = 1.1 + 1.4 * this.speed + 0.002 * this.tankLevel
    this.fillPressure += (pressureTarget - this.fillPressure) * 0.3
    const fillPressure = this.fillPressure + rng.gauss(0.03)

    // Conveyor drive: current follows load, the motor heats with I² and a long thermal time constant.
    const moving = this.speed > 0.01
    const current = moving
      ? 1.4 + 5.2 * this.speed + 0.25 * this.wear + rng.gauss(0.08)
      : Math.abs(0.15 + rng.gauss(0.01))
    const rise = 0.9 * current * current * (this.fanFailed ? 1.9 : 1)
    this.motorTemp += (AMBIENT_C + rise - this.motorTemp) * (TICK_SECONDS / MOTOR_THERMAL_TAU_S)
    if (this.motorTemp >= THERMAL_TRIP_C && !this.stopped.has('thermal_trip')) {
      this.stopped.add('thermal_trip')
      events.push({
        entity: CONVEYOR_DRIVE,
        type: 'thermal_trip',
        text: `Motor thermal protection tripped at ${round(this.motorTemp, 1)} °C`,
      })
    } else if (this.motorTemp < THERMAL_RESET_C && this.stopped.has('thermal_trip')) {
      this.stopped.delete('thermal_trip')
      events.push({ entity: CONVEYOR_DRIVE, type: 'thermal_reset', text: 'Motor thermal protection reset' })
    }

    // Bearing wear raises vibration slowly; vibration scales with speed.
    this.wear += WEAR_PER_RUNNING_S * this.speed * TICK_SECONDS
    const vibration = Math.max(
      0.05,
      (VIBRATION_BASE + this.wear) * (0.1 + 0.9 * this.speed) + rng.gauss(0.18),
    )

    const valves: Record<string, number> = {}
    const perValve = ((bottlesPerS * bottleLiters * 60) / VALVE_NAMES.length) * this.speed
    VALVE_NAMES.forEach((name, i) => {
      const flow = moving ? perValve * (1 + (this.valveBias[i] ?? 0)) + rng.gauss(0.15) : 0
      valves[name] = round(Math.max(0, flow), 2)
    })

    const changeover = this.batches.count(bottles, rejects, events)
    if (changeover > 0) {
      this.changeoverLeft = changeover
      this.stopped.add('changeover')
    }

    this.alarms.evaluate(
      {
        tankLevel: this.tankLevel,
        vibration,
        speed: this.speed,
        motorTemp: this.motorTemp,
        rejectRate: this.rejectRate * 100,
        bottles,
      },
      alarms,
    )
    this.maintain(events)
    this.reportStops(events, stopsBefore)

    const measurements: MeasurementOut[] = [
      {
        entity: MAIN,
        type: 'line',
        timestamped: true,
        values: {
          throughput: round(this.throughput, 1),
          availability: round((this.runningTicks / (this.tick + 1)) * 100, 1),
        },
      },
      {
        entity: TANK,
        type: 'tank',
        timestamped: true,
        values: {
          level: round(this.tankLevel, 2),
          temperature: round(this.productTemp, 2),
          inlet_flow: round(inflow * 60, 1),
        },
      },
      {
        entity: FILLER,
        type: 'filling',
        timestamped: false,
        values: {
          fill_pressure: round(fillPressure, 3),
          speed: round(this.settings.nominalSpeedBpm * this.speed, 1),
          bottles_filled: this.filled,
        },
      },
      { entity: VALVE_BANK, type: 'valves', timestamped: false, values: { valves } },
      {
        entity: CONVEYOR,
        type: 'conveyor',
        timestamped: false,
        values: { speed: round(moving ? Math.max(0, 0.45 * this.speed + rng.gauss(0.004)) : 0, 3) },
      },
      {
        entity: CONVEYOR_DRIVE,
        type: 'drive',
        timestamped: true,
        values: { motor_current: round(current, 2), motor_temperature: round(this.motorTemp, 2) },
      },
      {
        entity: CONVEYOR_DRIVE,
        type: 'vibration',
        timestamped: true,
        values: { velocity_rms: round(vibration, 3) },
      },
      {
        entity: VISION,
        type: 'inspection',
        timestamped: false,
        values: {
          inspected: this.inspected,
          rejected: this.rejected,
          reject_rate: round(this.rejectRate * 100, 2),
        },
      },
      {
        entity: CAPPER,
        type: 'capper',
        timestamped: false,
        values: { capped: this.capped, torque: round(this.capTorque, 3) },
      },
    ]

    return { tick: this.tick++, measurements, events, alarms }
  }

  /** Random happenings: guard door, supply outage, fan failure, label drift. */
  private disturb(events: EventOut[], running: boolean): void {
    const rng = this.rng
    if (this.doorLeft > 0 && --this.doorLeft === 0) {
      this.stopped.delete('door')
      events.push({
        entity: FILLER,
        type: 'door_closed',
        text: 'Guard door GD-2 closed',
        fragments: { door: 'GD-2' },
      })
    } else if (running && rng.chance(1 / 900)) {
      this.doorLeft = rng.int(15, 60)
      this.stopped.add('door')
      events.push({
        entity: FILLER,
        type: 'door_opened',
        text: 'Guard door GD-2 opened',
        fragments: { door: 'GD-2', location: 'filler infeed' },
      })
    }

    if (this.supplyOk && --this.nextOutageIn <= 0) {
      this.supplyOk = false
      this.outageLeft = rng.int(150, 300)
      events.push({
        entity: TANK,
        type: 'supply_interrupted',
        text: 'Product supply from mixing room interrupted',
      })
    } else if (!this.supplyOk && --this.outageLeft <= 0) {
      this.supplyOk = true
      this.nextOutageIn = rng.int(900, 2400)
      events.push({ entity: TANK, type: 'supply_restored', text: 'Product supply from mixing room restored' })
    }

    if (!this.fanFailed && running && rng.chance(1 / 5400)) {
      this.fanFailed = true
      this.fanRepairIn = rng.int(600, 1200)
      events.push({ entity: CONVEYOR_DRIVE, type: 'fan_failure', text: 'Motor cooling fan failure detected' })
    } else if (this.fanFailed && --this.fanRepairIn <= 0) {
      this.fanFailed = false
      events.push({ entity: CONVEYOR_DRIVE, type: 'maintenance', text: 'Motor cooling fan replaced' })
    }

    if (this.labelDriftLeft > 0) {
      if (--this.labelDriftLeft === 0) this.rejectProbability = BASE_REJECT_PROBABILITY
    } else if (running && rng.chance(1 / 1800)) {
      // A labeller drifting out of position makes the vision system reject far more bottles for a while.
      this.labelDriftLeft = rng.int(300, 900)
      this.rejectProbability = 0.07
    }

    if (this.changeoverLeft > 0 && --this.changeoverLeft === 0) {
      this.stopped.delete('changeover')
      this.batches.start(events)
    }
  }

  /** A bearing left in major vibration gets replaced after a while, which resets the wear. */
  private maintain(events: EventOut[]): void {
    if (this.maintenanceLeft > 0) {
      if (--this.maintenanceLeft === 0) {
        this.stopped.delete('maintenance')
        this.wear = this.rng.between(0, 0.3)
        this.vibrationMajorFor = 0
        events.push({ entity: CONVEYOR_DRIVE, type: 'maintenance', text: 'Drive bearing replaced' })
      }
      return
    }
    this.vibrationMajorFor = this.alarms.vibrationSeverity === 'major' ? this.vibrationMajorFor + 1 : 0
    if (this.vibrationMajorFor > 900) {
      this.maintenanceLeft = this.rng.int(240, 480)
      this.stopped.add('maintenance')
      events.push({ entity: CONVEYOR_DRIVE, type: 'maintenance', text: 'Drive bearing replacement started' })
    }
  }

  private reportStops(events: EventOut[], before: ReadonlySet<StopReason>): void {
    if (before.size === 0 && this.stopped.size > 0) {
      const reason = [...this.stopped][0] as StopReason
      events.push({
        entity: FILLER,
        type: 'stopped',
        text: `Filler stopped: ${STOP_TEXT[reason]}`,
        fragments: { reason },
      })
    } else if (before.size > 0 && this.stopped.size === 0) {
      events.push({ entity: FILLER, type: 'started', text: 'Filler started' })
    }
  }
}
