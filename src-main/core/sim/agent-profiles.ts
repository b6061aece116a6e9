import type { LineSettings } from './line-settings'
import { CAPPER, CONVEYOR_DRIVE, FILLER, TANK, VISION } from './topology'

// What the tedge-agent on each child device supports (reference §3.1, §5): data, not code.

interface KeyCommon {
  /** The line-model setting this key drives, so an applied file changes what the line publishes. */
  setting?: keyof LineSettings
  /**
   * Also settable as a desired property of the same name (`desired_update`): only keys that drive
   * the line, so an applied desired value shows in what the line publishes. The device reports the
   * value in effect as its twin fragment of that name, so a change made outside EdgeTwin shows.
   */
  desired?: boolean
}

export type ConfigKeySpec =
  | (KeyCommon & { kind: 'number'; min: number; max: number; integer?: boolean; unit?: string })
  | (KeyCommon & { kind: 'text'; pattern: RegExp; expected: string })

/** One `config_snapshot`/`config_update` type: a `key = value` file on the device. */
export interface ConfigFileSpec {
  type: string
  path: string
  keys: Readonly<Record<string, ConfigKeySpec>>
  /** Factory content; keys missing from an uploaded file fall back to the values here. */
  content: string
}

/** One `log_upload` type. The first log of a device records its events, alarms and operations. */
export interface LogSpec {
  type: string
  path: string
  /** A line written every `every` ticks; `{key}` takes the latest value of `measurement`. */
  periodic?: { every: number; measurement?: string; text: string }
}

export interface SoftwareModule {
  name: string
  version: string
}

/** One `software_list`/`software_update` type, as a software-management plugin sees it (reference §4). */
export interface SoftwareTypeSpec {
  type: string
  installed: readonly SoftwareModule[]
  /** What the device's package source offers: name → available versions, oldest first. */
  catalogue: Readonly<Record<string, readonly string[]>>
  /** Failure reasons as the plugin would print them; `{name}` and `{version}` are filled in. */
  unknownPackage: string
  unknownVersion: string
}

export interface AgentProfile {
  device: string
  /** Ticks (simulated seconds) from shutdown to the agent being up again. */
  bootTicks: number
  /** The line stops while this device restarts. */
  holdsLine: boolean
  firmwareUpdate: boolean
  config: readonly ConfigFileSpec[]
  logs: readonly LogSpec[]
  software: readonly SoftwareTypeSpec[]
}

const ON_OFF = { kind: 'text', pattern: /^(on|off)$/, expected: 'on or off' } as const
const IPV4 = {
  kind: 'text',
  pattern: /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/,
  expected: 'an IPv4 address',
} as const

const FILLER_CONF = `# Aquafill AF-24 rotary filler - machine parameters
# Applied at the next bottle; a file with an out-of-range value is rejected as a whole.

# Nominal line speed, bottles per minute (30..180)
nominal_speed_bpm = 120

# Target fill volume per bottle, millilitres (100..2000)
fill_volume_ml = 500

# Allowed deviation from the target before a bottle is rejected, millilitres (0.5..20)
fill_tolerance_ml = 4

# Filling bowl pressure set point, bar (0.5..4)
bowl_pressure_bar = 1.1

# Maximum product temperature at the filler inlet, degrees C (0..30)
product_temp_max_c = 12

# Clean-in-place interval, hours (8..168)
cip_interval_h = 72
`

const PLC_NETWORK_CONF = `# Filler PLC - PROFINET and management network
profinet_name = filler-plc
ip_address = 10.3.0.31
netmask = 255.255.255.0
gateway = 10.3.0.10
`

const DRIVE_CONF = `# Drivetek VF-400 parameter set for the outfeed conveyor motor

# Motor nameplate
motor_rated_current_a = 8.5
motor_rated_speed_rpm = 1440

# Output frequency limits, Hz
min_frequency_hz = 5
max_frequency_hz = 50

# Ramps, seconds from 0 Hz to the maximum frequency
accel_time_s = 10
decel_time_s = 4

# Current limit, % of rated current
current_limit_pct = 150
`

const INSPECTION_CONF = `# Optiq InspectCam 3C - inspection recipe

# Camera exposure, microseconds
exposure_us = 350
# Delay from the bottle trigger to the exposure, milliseconds
trigger_delay_ms = 12

# Reject limits
fill_level_tolerance_mm = 2.5
label_skew_max_deg = 3
cap_presence_check = on

# Raise reject_rate_high above this reject rate, %
reject_rate_alarm_pct = 5
`

const CAPPER_CONF = `# Capmatic 12 - closing parameters

# Target closing torque, N.m (0.8..5)
target_torque_nm = 2.2
# Accepted deviation from the target torque, N.m
torque_tolerance_nm = 0.3
# Chuck speed, revolutions per minute
chuck_speed_rpm = 320
# Stop the capper when the cap chute runs empty
cap_feed_check = on
`

const APT_FAILURES = {
  unknownPackage: 'E: Unable to locate package {name}',
  unknownVersion: "E: Version '{version}' for '{name}' was not found",
}

export const AGENT_PROFILES: readonly AgentProfile[] = [
  {
    device: FILLER,
    bootTicks: 5,
    holdsLine: true,
    firmwareUpdate: true,
    config: [
      {
        type: 'filler.conf',
        path: '/etc/filler/filler.conf',
        content: FILLER_CONF,
        keys: {
          nominal_speed_bpm: {
            kind: 'number',
            min: 30,
            max: 180,
            integer: true,
            unit: 'bottles/min',
            setting: 'nominalSpeedBpm',
            desired: true,
          },
          fill_volume_ml: {
            kind: 'number',
            min: 100,
            max: 2000,
            unit: 'mL',
            setting: 'fillVolumeMl',
            desired: true,
          },
          fill_tolerance_ml: { kind: 'number', min: 0.5, max: 20, unit: 'mL' },
          bowl_pressure_bar: { kind: 'number', min: 0.5, max: 4, unit: 'bar' },
          product_temp_max_c: { kind: 'number', min: 0, max: 30, unit: '°C' },
          cip_interval_h: { kind: 'number', min: 8, max: 168, integer: true, unit: 'h' },
        },
      },
      {
        type: 'plc-network.conf',
        path: '/etc/filler/plc-network.conf',
        content: PLC_NETWORK_CONF,
        keys: {
          profinet_name: {
            kind: 'text',
            pattern: /^[a-z][a-z0-9-]{0,62}$/,
            expected: 'a PROFINET station name',
          },
          ip_address: IPV4,
          netmask: IPV4,
          gateway: IPV4,
        },
      },
    ],
    logs: [
      {
        type: 'filler',
        path: '/var/log/filler/filler.log',
        periodic: {
          every: 30,
          measurement: 'filling',
          text: 'Status: {speed} bottles/min, fill pressure {fill_pressure} bar, {bottles_filled} bottles filled',
        },
      },
      {
        type: 'plc',
        path: '/var/log/plc/runtime.log',
        periodic: { every: 60, text: 'Task MainTask: scan cycle 4 ms, 12/12 I/O modules online' },
      },
    ],
    software: [
      {
        type: 'codesys',
        installed: [
          { name: 'filling-sequence', version: '3.2.0' },
          { name: 'recipe-manager', version: '1.4.1' },
          { name: 'cip-sequence', version: '2.0.3' },
          { name: 'opcua-server', version: '1.8.0' },
        ],
        catalogue: {
          'filling-sequence': ['3.1.0', '3.2.0', '3.3.0'],
          'recipe-manager': ['1.4.1', '1.5.0'],
          'cip-sequence': ['2.0.3'],
          'opcua-server': ['1.8.0', '1.9.2'],
          'batch-reporting': ['1.0.0', '1.1.0'],
          'energy-monitor': ['0.9.1'],
        },
        unknownPackage: "Application '{name}' was not found in the package repository",
        unknownVersion: "Application '{name}' has no version {version} in the package repository",
      },
    ],
  },
  {
    device: CONVEYOR_DRIVE,
    bootTicks: 4,
    holdsLine: true,
    firmwareUpdate: true,
    config: [
      {
        type: 'drive.conf',
        path: '/etc/vfd/drive.conf',
        content: DRIVE_CONF,
        keys: {
          motor_rated_current_a: { kind: 'number', min: 0.5, max: 12, unit: 'A' },
          motor_rated_speed_rpm: { kind: 'number', min: 300, max: 3600, integer: true, unit: 'rpm' },
          min_frequency_hz: { kind: 'number', min: 0, max: 50, unit: 'Hz' },
          max_frequency_hz: { kind: 'number', min: 10, max: 120, unit: 'Hz' },
          accel_time_s: { kind: 'number', min: 0.1, max: 600, unit: 's' },
          decel_time_s: { kind: 'number', min: 0.1, max: 600, unit: 's' },
          current_limit_pct: { kind: 'number', min: 50, max: 200, integer: true, unit: '%' },
        },
      },
    ],
    logs: [
      {
        type: 'drive',
        path: '/var/log/vfd/drive.log',
        periodic: {
          every: 30,
          measurement: 'drive',
          text: 'Output: motor current {motor_current} A, winding {motor_temperature} °C',
        },
      },
      {
        type: 'condition-monitoring',
        path: '/var/log/vfd/condition-monitoring.log',
        periodic: { every: 30, measurement: 'vibration', text: 'Vibration velocity {velocity_rms} mm/s RMS' },
      },
    ],
    software: [],
  },
  {
    device: VISION,
    bootTicks: 8,
    holdsLine: false,
    firmwareUpdate: true,
    config: [
      {
        type: 'inspection.conf',
        path: '/etc/optiq/inspection.conf',
        content: INSPECTION_CONF,
        keys: {
          exposure_us: { kind: 'number', min: 20, max: 10000, integer: true, unit: 'µs' },
          trigger_delay_ms: { kind: 'number', min: 0, max: 200, unit: 'ms' },
          fill_level_tolerance_mm: { kind: 'number', min: 0.5, max: 10, unit: 'mm' },
          label_skew_max_deg: { kind: 'number', min: 0.5, max: 15, unit: '°' },
          cap_presence_check: ON_OFF,
          reject_rate_alarm_pct: { kind: 'number', min: 0.5, max: 50, unit: '%' },
        },
      },
    ],
    logs: [
      {
        type: 'inspection',
        path: '/var/log/optiq/inspection.log',
        periodic: {
          every: 30,
          measurement: 'inspection',
          text: '{inspected} inspected, {rejected} rejected, reject rate {reject_rate} %',
        },
      },
      {
        type: 'syslog',
        path: '/var/log/syslog',
        periodic: { every: 120, text: 'chronyd[412]: Selected source 10.3.0.10 (ntp.line3.local)' },
      },
    ],
    software: [
      {
        type: 'docker',
        installed: [
          { name: 'optiq/label-check', version: '2.4.1' },
          { name: 'optiq/fill-level', version: '1.9.0' },
          { name: 'optiq/cap-detect', version: '1.2.0' },
          { name: 'eclipse-mosquitto', version: '2.0.18' },
        ],
        catalogue: {
          'optiq/label-check': ['2.3.0', '2.4.1', '2.5.0'],
          'optiq/fill-level': ['1.9.0', '2.0.0'],
          'optiq/cap-detect': ['1.2.0', '1.3.1'],
          'optiq/datecode-ocr': ['1.0.2', '1.1.0'],
          'eclipse-mosquitto': ['2.0.18', '2.0.20'],
          'grafana/promtail': ['2.9.4'],
        },
        unknownPackage:
          "Error response from daemon: pull access denied for {name}, repository does not exist or may require 'docker login'",
        unknownVersion:
          'Error response from daemon: manifest for {name}:{version} not found: manifest unknown',
      },
      {
        type: 'apt',
        installed: [
          { name: 'libopencv-core406', version: '4.6.0+dfsg-12' },
          { name: 'genicam-gentl', version: '1.5.0-2' },
          { name: 'chrony', version: '4.3-2+deb12u1' },
        ],
        catalogue: {
          'libopencv-core406': ['4.6.0+dfsg-12'],
          'genicam-gentl': ['1.5.0-2', '1.6.1-1'],
          chrony: ['4.3-2+deb12u1'],
          htop: ['3.2.2-2'],
          tcpdump: ['4.99.3-1'],
        },
        ...APT_FAILURES,
      },
    ],
  },
  {
    device: CAPPER,
    bootTicks: 5,
    holdsLine: true,
    firmwareUpdate: true,
    config: [
      {
        type: 'capper.conf',
        path: '/etc/capper/capper.conf',
        content: CAPPER_CONF,
        keys: {
          target_torque_nm: {
            kind: 'number',
            min: 0.8,
            max: 5,
            unit: 'N·m',
            setting: 'capTorqueNm',
            desired: true,
          },
          torque_tolerance_nm: { kind: 'number', min: 0.05, max: 1, unit: 'N·m' },
          chuck_speed_rpm: { kind: 'number', min: 100, max: 600, integer: true, unit: 'rpm' },
          cap_feed_check: ON_OFF,
        },
      },
    ],
    logs: [
      {
        type: 'capper',
        path: '/var/log/capper/capper.log',
        periodic: { every: 30, measurement: 'capper', text: '{capped} capped, last torque {torque} N·m' },
      },
    ],
    software: [],
  },
  {
    device: TANK,
    bootTicks: 4,
    holdsLine: false,
    firmwareUpdate: true,
    config: [],
    logs: [
      {
        type: 'level-controller',
        path: '/var/log/level-controller.log',
        periodic: {
          every: 30,
          measurement: 'tank',
          text: 'Level {level} %, product {temperature} °C, inlet {inlet_flow} L/min',
        },
      },
    ],
    software: [],
  },
]
