import { describe, expect, it } from 'vitest'
import {
  type Channel,
  defaultEntityType,
  defaultParent,
  errorsTopic,
  formatTopic,
  isDefaultScheme,
  MAIN_DEVICE,
  normalizeEntityId,
  parseTopic,
  TopicError,
} from '../../../src-main/core/topics'

// Every channel of the closed set in reference §1.1 (mqtt_topics.rs Channel::from_str).
const VALID: Array<[topic: string, entity: string, channel: Channel]> = [
  ['te/device/main//', 'device/main//', { kind: 'registration' }],
  ['te/device/child01//', 'device/child01//', { kind: 'registration' }],
  ['te/device/main/service/nodered', 'device/main/service/nodered', { kind: 'registration' }],
  ['te/device/main///twin/device_OS', 'device/main//', { kind: 'twin', key: 'device_OS' }],
  ['te/device/main/service/tedge-agent/config', 'device/main/service/tedge-agent', { kind: 'config' }],
  ['te/device/main///m/environment', 'device/main//', { kind: 'measurement', type: 'environment' }],
  ['te/device/main///m/', 'device/main//', { kind: 'measurement', type: '' }],
  [
    'te/device/main///m/battery_reading/meta',
    'device/main//',
    { kind: 'measurement-meta', type: 'battery_reading' },
  ],
  ['te/device/main///m//meta', 'device/main//', { kind: 'measurement-meta', type: '' }],
  ['te/device/child01///e/login_event', 'device/child01//', { kind: 'event', type: 'login_event' }],
  ['te/device/main///e/', 'device/main//', { kind: 'event', type: '' }],
  ['te/device/main///e/login_event/meta', 'device/main//', { kind: 'event-meta', type: 'login_event' }],
  ['te/device/main///a/temperature_high', 'device/main//', { kind: 'alarm', type: 'temperature_high' }],
  ['te/device/main///a/', 'device/main//', { kind: 'alarm', type: '' }],
  [
    'te/device/main///a/temperature_high/meta',
    'device/main//',
    { kind: 'alarm-meta', type: 'temperature_high' },
  ],
  ['te/device/child001///cmd/restart', 'device/child001//', { kind: 'capability', operation: 'restart' }],
  [
    'te/device/child001///cmd/restart/c8y-2023-09-08T18:13:00',
    'device/child001//',
    { kind: 'command', operation: 'restart', cmdId: 'c8y-2023-09-08T18:13:00' },
  ],
  [
    'te/device/main///cmd/firmware_update/sub:device_profile:robot-123',
    'device/main//',
    { kind: 'command', operation: 'firmware_update', cmdId: 'sub:device_profile:robot-123' },
  ],
  [
    'te/device/main/service/tedge-agent/cmd/health/check',
    'device/main/service/tedge-agent',
    { kind: 'command', operation: 'health', cmdId: 'check' },
  ],
  [
    'te/device/main/service/tedge-mapper-c8y/signal/sync',
    'device/main/service/tedge-mapper-c8y',
    { kind: 'signal', type: 'sync' },
  ],
  ['te/device/main/service/tedge-agent/status/health', 'device/main/service/tedge-agent', { kind: 'health' }],
  [
    'te/device/main/service/mosquitto-c8y-bridge/status/health',
    'device/main/service/mosquitto-c8y-bridge',
    { kind: 'health' },
  ],
  [
    'te/device/main/service/foo/status/readiness',
    'device/main/service/foo',
    { kind: 'status', component: 'readiness' },
  ],
  // Custom identifier schemes (§1.3): any four segments.
  ['te/factory01/hallA/packaging/belt001', 'factory01/hallA/packaging/belt001', { kind: 'registration' }],
  [
    'te/packaging/belt001///e/running_status',
    'packaging/belt001//',
    { kind: 'event', type: 'running_status' },
  ],
  [
    'te/component_namespace/service/nodered/instance-1',
    'component_namespace/service/nodered/instance-1',
    { kind: 'registration' },
  ],
]

describe('parseTopic: valid topics of every channel (reference §1.1)', () => {
  it.each(VALID)('parses %s', (topic, entity, channel) => {
    expect(parseTopic(topic)).toEqual({ entity, channel })
  })

  it('pads a short id on the bare entity topic: te/packaging/belt001 registers packaging/belt001// (§1.3)', () => {
    expect(parseTopic('te/packaging/belt001')).toEqual({
      entity: 'packaging/belt001//',
      channel: { kind: 'registration' },
    })
    expect(parseTopic('te/device/child001')).toEqual({
      entity: 'device/child001//',
      channel: { kind: 'registration' },
    })
    expect(parseTopic('te/device/child001/')).toEqual({
      entity: 'device/child001//',
      channel: { kind: 'registration' },
    })
  })

  it('tells a capability (cmd/<op>) from a command instance (cmd/<op>/<id>)', () => {
    expect(parseTopic('te/device/main///cmd/software_update')?.channel).toEqual({
      kind: 'capability',
      operation: 'software_update',
    })
    expect(parseTopic('te/device/main///cmd/software_update/c8y-mapper-1')?.channel).toEqual({
      kind: 'command',
      operation: 'software_update',
      cmdId: 'c8y-mapper-1',
    })
  })

  it('tells status/health from any other status component', () => {
    expect(parseTopic('te/device/main/service/a/status/health')?.channel).toEqual({ kind: 'health' })
    expect(parseTopic('te/device/main/service/a/status/healthy')?.channel).toEqual({
      kind: 'status',
      component: 'healthy',
    })
  })

  it('honours a configured topic root (mqtt.topic_root acme) and ignores topics outside it', () => {
    expect(parseTopic('acme/device/main///m/env', 'acme')).toEqual({
      entity: 'device/main//',
      channel: { kind: 'measurement', type: 'env' },
    })
    expect(parseTopic('te/device/main///m/env', 'acme')).toBeUndefined()
    expect(parseTopic('c8y/s/us')).toBeUndefined()
    expect(parseTopic('tedge/measurements')).toBeUndefined()
    expect(parseTopic('te')).toBeUndefined()
  })

  it('does not treat te/errors as an entity topic (§1.1: errors from mappers)', () => {
    expect(errorsTopic()).toBe('te/errors')
    expect(parseTopic('te/errors')).toBeUndefined()
    expect(parseTopic('acme/errors', 'acme')).toBeUndefined()
  })
})

describe('parseTopic: invalid topics are refused with a reason (ChannelError / TooLong)', () => {
  const INVALID: Array<[string, RegExp]> = [
    ['te/device/main///incorrect_category/x', /unknown channel/],
    ['te/device/main///m', /unknown channel "m"/],
    ['te/device/main///e', /unknown channel/],
    ['te/device/main///a', /unknown channel/],
    ['te/device/main///m/env/meta/extra', /unknown channel/],
    ['te/device/main///m/env/other', /unknown channel/],
    ['te/device/main///twin', /unknown channel/],
    ['te/device/main///twin/', /unknown channel/],
    ['te/device/main///twin/a/b', /unknown channel/],
    ['te/device/main///config/x', /unknown channel/],
    ['te/device/main///cmd', /unknown channel/],
    ['te/device/main///cmd/', /unknown channel/],
    ['te/device/main///cmd/restart/', /unknown channel/],
    ['te/device/main///cmd/restart/1/2', /unknown channel/],
    ['te/device/main///signal', /unknown channel/],
    ['te/device/main///status', /unknown channel/],
    ['te/device/main///status/health/x', /unknown channel/],
    ['te/device/main/////m/env', /unknown channel/],
    ['te/+/+/+/+', /wildcard/],
    ['te/+/+/+/+/m/+', /wildcard/],
    ['te/device/#', /wildcard/],
    ['te/device/main///m/#', /wildcard/],
    ['te/////m/env', /empty entity id/],
    ['te////m/env', /unknown channel "env"/],
    ['te////', /empty entity id/],
    ['te/', /empty/],
    ['te///', /empty/],
  ]

  it.each(INVALID)('refuses %s', (topic, reason) => {
    expect(() => parseTopic(topic)).toThrow(TopicError)
    expect(() => parseTopic(topic)).toThrow(reason)
  })
})

describe('normalizeEntityId (§1.1: shorter ids are right-padded; >4 segments is TooLong)', () => {
  it('pads short ids and keeps full ones', () => {
    expect(normalizeEntityId('device/child0')).toBe('device/child0//')
    expect(normalizeEntityId('device/child001')).toBe('device/child001//')
    expect(normalizeEntityId('device/child01//')).toBe('device/child01//')
    expect(normalizeEntityId('packaging/belt001')).toBe('packaging/belt001//')
    expect(normalizeEntityId('factory01/hallA/packaging/belt001')).toBe('factory01/hallA/packaging/belt001')
    expect(normalizeEntityId('device')).toBe('device///')
  })

  it('refuses more than four segments, as an @parent would carry them', () => {
    expect(() => normalizeEntityId('device/child/service/x/y')).toThrow(/more than 4 segments/)
    expect(() => normalizeEntityId('device/main/////')).toThrow(TopicError)
  })

  it('refuses wildcards and empty ids', () => {
    expect(() => normalizeEntityId('device/+//')).toThrow(/wildcard/)
    expect(() => normalizeEntityId('device/#')).toThrow(/wildcard/)
    expect(() => normalizeEntityId('')).toThrow(/empty/)
    expect(() => normalizeEntityId('///')).toThrow(/empty/)
  })
})

describe('formatTopic', () => {
  it.each(VALID)('round-trips %s', (topic, entity, channel) => {
    expect(formatTopic(entity, channel)).toBe(topic)
    expect(parseTopic(formatTopic(entity, channel))).toEqual({ entity, channel })
  })

  it('keeps the trailing slash of an empty type (§1.1: te/device/main///m/)', () => {
    expect(formatTopic(MAIN_DEVICE, { kind: 'measurement', type: '' })).toBe('te/device/main///m/')
    expect(formatTopic(MAIN_DEVICE, { kind: 'alarm', type: '' })).toBe('te/device/main///a/')
  })

  it('pads a short entity id and uses the given root', () => {
    expect(formatTopic('device/child01', { kind: 'registration' })).toBe('te/device/child01//')
    expect(formatTopic('packaging/belt001', { kind: 'event', type: 'running_status' })).toBe(
      'te/packaging/belt001///e/running_status',
    )
    expect(formatTopic(MAIN_DEVICE, { kind: 'twin', key: 'name' }, 'acme')).toBe(
      'acme/device/main///twin/name',
    )
  })

  it('refuses an entity id it cannot pad', () => {
    expect(() => formatTopic('a/b/c/d/e', { kind: 'registration' })).toThrow(TopicError)
    expect(() => formatTopic('', { kind: 'registration' })).toThrow(TopicError)
  })
})

describe('isDefaultScheme (§1.2, mqtt_topics.rs default_topic_scheme_match)', () => {
  it.each(['device/main//', 'device/child//', 'device/main/service/foo', 'device/child/service/foo'])(
    'matches %s',
    (id) => {
      expect(isDefaultScheme(id)).toBe(true)
    },
  )

  it.each([
    'device///',
    'device/main//foo',
    'device/child/service/',
    'device//service/foo',
    'custom///',
    'custom/main//',
    'factory01/hallA/packaging/belt001',
    'device/main/custom_service/foo',
  ])('does not match %s', (id) => {
    expect(isDefaultScheme(id)).toBe(false)
  })
})

describe('defaultParent and defaultEntityType (§1.4 parent defaulting, §1.6 auto-registration)', () => {
  it('puts a service under its device and a child device under main', () => {
    expect(defaultParent('device/child01/service/nodered')).toBe('device/child01//')
    expect(defaultParent('device/main/service/nodered')).toBe(MAIN_DEVICE)
    expect(defaultParent('device/child01//')).toBe(MAIN_DEVICE)
  })

  it('has no parent for the main device nor for custom schemes', () => {
    expect(defaultParent(MAIN_DEVICE)).toBeUndefined()
    expect(defaultParent('factory01/hallA/packaging/belt001')).toBeUndefined()
    expect(defaultParent('device/main//foo')).toBeUndefined()
  })

  it('derives the entity type from a default-scheme id only', () => {
    expect(defaultEntityType(MAIN_DEVICE)).toBe('device')
    expect(defaultEntityType('device/rpi1002//')).toBe('child-device')
    expect(defaultEntityType('device/rpi1002/service/collectd')).toBe('service')
    expect(defaultEntityType('factory01/hallA/packaging/belt001')).toBeUndefined()
  })
})
