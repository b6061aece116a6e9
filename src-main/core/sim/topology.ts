import { MAIN_DEVICE } from '../topics'

// The filling line as thin-edge.io entities: devices, their services, inventory twin and measurement units.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export interface SimDevice {
  /** Entity topic id, default scheme (`device/<name>//`, reference §1.2). */
  id: string
  /** Parent topic id; absent only for the main device. */
  parent?: string
  name: string
  type: string
  /** Retained `twin/<key>` fragments (reference §2.5). */
  twin: Record<string, JsonValue>
  /** Retained `m/<type>/meta` per measurement type (reference §2.2; group series use dotted keys). */
  units: Record<string, Record<string, { unit: string }>>
}

export interface SimService {
  id: string
  parent: string
  name: string
}

export const MAIN = MAIN_DEVICE
export const TANK = 'device/tank//'
export const FILLER = 'device/filler//'
export const VALVE_BANK = 'device/valve-bank//'
export const CAPPER = 'device/capper//'
export const CONVEYOR = 'device/conveyor//'
export const CONVEYOR_DRIVE = 'device/conveyor-drive//'
export const VISION = 'device/vision//'

export const VALVE_NAMES = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'] as const

const valveUnits = Object.fromEntries(VALVE_NAMES.map((v) => [`valves.${v}`, { unit: 'L/min' }]))

/** Parents are listed before their children so a strict consumer sees a consistent tree. */
export const LINE_DEVICES: readonly SimDevice[] = [
  {
    id: MAIN,
    name: 'Filling Line 3',
    type: 'LineGateway',
    twin: {
      serialNumber: 'FL3-GW-2207-0418',
      model: 'EdgeBox IPC-220',
      manufacturer: 'Nordwerk Automation',
      firmware: { name: 'edgebox-os', version: '4.2.1' },
      hardware: { revision: 'C', cpu: 'ARM Cortex-A53 x4', memoryMb: 2048 },
      device_OS: { family: 'Debian', version: '12' },
      ipAddress: '10.3.0.10',
      location: { site: 'Plant Brno', hall: 'B', line: 3 },
    },
    units: { line: { throughput: { unit: 'bottles/min' }, availability: { unit: '%' } } },
  },
  {
    id: TANK,
    parent: MAIN,
    name: 'Buffer Tank T-301',
    type: 'BufferTank',
    twin: {
      serialNumber: 'T301-1893-552',
      model: 'Hygienic Buffer Tank 300 L',
      manufacturer: 'Inoxa',
      firmware: { name: 'level-controller', version: '2.8.0' },
      hardware: { revision: 'B' },
      ipAddress: '10.3.0.21',
      capacityLiters: 300,
    },
    units: {
      tank: { level: { unit: '%' }, temperature: { unit: '°C' }, inlet_flow: { unit: 'L/min' } },
    },
  },
  {
    id: FILLER,
    parent: MAIN,
    name: 'Filler PLC',
    type: 'FillerPLC',
    twin: {
      serialNumber: 'AF24-PLC-0093317',
      model: 'Aquafill AF-24 Rotary Filler',
      manufacturer: 'Aquafill',
      firmware: { name: 'plc-runtime', version: '3.11.4' },
      hardware: { revision: 'D2' },
      ipAddress: '10.3.0.31',
    },
    units: {
      filling: {
        fill_pressure: { unit: 'bar' },
        speed: { unit: 'bottles/min' },
        bottles_filled: { unit: 'bottles' },
      },
    },
  },
  {
    id: VALVE_BANK,
    parent: FILLER,
    name: 'Fill Valve Bank',
    type: 'ValveTerminal',
    twin: {
      serialNumber: 'VT6-20417-88',
      model: 'VT-6 Valve Terminal',
      manufacturer: 'Aquafill',
      firmware: { name: 'valve-terminal', version: '1.4.2' },
      hardware: { revision: 'A' },
      valveCount: VALVE_NAMES.length,
    },
    units: { valves: valveUnits },
  },
  {
    id: CONVEYOR,
    parent: MAIN,
    name: 'Outfeed Conveyor',
    type: 'ConveyorController',
    twin: {
      serialNumber: 'CV-L3-0042',
      model: 'FlexLink X85 Controller',
      manufacturer: 'Conveyor Systems Ltd',
      firmware: { name: 'conveyor-ctl', version: '5.0.3' },
      hardware: { revision: 'B' },
      ipAddress: '10.3.0.41',
      lengthMeters: 18.5,
    },
    units: { conveyor: { speed: { unit: 'm/s' } } },
  },
  {
    id: CONVEYOR_DRIVE,
    parent: CONVEYOR,
    name: 'Conveyor Drive VFD',
    type: 'VariableFrequencyDrive',
    twin: {
      serialNumber: 'VFD-7A2-221905',
      model: 'VF-400 2.2 kW',
      manufacturer: 'Drivetek',
      firmware: { name: 'vfd-firmware', version: '2.05' },
      hardware: { revision: 'E' },
      ratedCurrentA: 8.5,
      ratedPowerKw: 2.2,
    },
    units: {
      drive: { motor_current: { unit: 'A' }, motor_temperature: { unit: '°C' } },
      vibration: { velocity_rms: { unit: 'mm/s' } },
    },
  },
  {
    id: VISION,
    parent: MAIN,
    name: 'Vision Inspection',
    type: 'VisionSystem',
    twin: {
      serialNumber: 'VIS-3C-110287',
      model: 'InspectCam 3C',
      manufacturer: 'Optiq',
      firmware: { name: 'inspection-suite', version: '7.3.0' },
      hardware: { revision: 'F' },
      ipAddress: '10.3.0.51',
    },
    units: {
      inspection: {
        inspected: { unit: 'bottles' },
        rejected: { unit: 'bottles' },
        reject_rate: { unit: '%' },
      },
    },
  },
  {
    id: CAPPER,
    parent: MAIN,
    name: 'Capper',
    type: 'Capper',
    twin: {
      serialNumber: 'CP12-55120',
      model: 'Capmatic 12',
      manufacturer: 'Aquafill',
      firmware: { name: 'capper-ctl', version: '1.9.7' },
      hardware: { revision: 'C' },
      ipAddress: '10.3.0.61',
    },
    units: { capper: { capped: { unit: 'bottles' }, torque: { unit: 'N·m' } } },
  },
]

export const LINE_SERVICES: readonly SimService[] = [
  { id: 'device/main/service/line-controller', parent: MAIN, name: 'line-controller' },
  { id: 'device/filler/service/plc-runtime', parent: FILLER, name: 'plc-runtime' },
  { id: 'device/vision/service/inspection', parent: VISION, name: 'inspection' },
  {
    id: 'device/conveyor-drive/service/condition-monitoring',
    parent: CONVEYOR_DRIVE,
    name: 'condition-monitoring',
  },
]

/** Every alarm the line can raise, so a restart can clear stale retained alarms from a previous run. */
export const LINE_ALARM_TYPES: ReadonlyArray<{ entity: string; type: string }> = [
  { entity: TANK, type: 'level_low' },
  { entity: CONVEYOR_DRIVE, type: 'vibration_high' },
  { entity: CONVEYOR_DRIVE, type: 'motor_overtemperature' },
  { entity: VISION, type: 'reject_rate_high' },
]
