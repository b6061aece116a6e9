import type { MqttClient } from 'mqtt'
import { expect, vi } from 'vitest'
import { collect, type TestCore } from '../../helpers/core'

/**
 * Publishes with QoS 1 and resolves on the PUBACK. The embedded broker acknowledges only once the
 * core has applied the message and committed it, so the API reflects it afterwards.
 */
export async function pub(
  client: MqttClient,
  topic: string,
  payload: string | Buffer | object,
  retain = false,
) {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)
  await client.publishAsync(topic, body, { qos: 1, retain })
}

/**
 * The retained messages a connector connecting now would receive on `filter`, as a map topic →
 * payload. The broker's own count of retained topics tells when all of them have arrived.
 */
export async function retainedOn(t: TestCore, filter: string): Promise<Map<string, string>> {
  const expected = (await t.core.parts.bus.retained(filter)).length
  const client = await t.client()
  const bus = await collect(client, filter)
  await vi.waitFor(() => expect(bus.messages.filter((m) => m.retain).length).toBeGreaterThanOrEqual(expected))
  await client.endAsync()
  return new Map(bus.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]))
}

/** Rejections the core reports on `te/errors`: `{"topic", "error", "time"}`. */
export async function errorsOf(t: TestCore) {
  const client = await t.client()
  const bus = await collect(client, 'te/errors')
  return {
    async about(topic: string): Promise<string> {
      const message = await bus.next((m) => (JSON.parse(m.payload) as { topic?: string }).topic === topic)
      return (JSON.parse(message.payload) as { error: string }).error
    },
    get count() {
      return bus.messages.length
    },
  }
}

/** A thin-edge.io entity as GET /te/v1/entities/{topic-id} answers it (no token, from loopback). */
export async function teEntity(t: TestCore, topicId: string): Promise<Record<string, unknown> | undefined> {
  const response = await t.http(`/te/v1/entities/${topicId}`, { auth: false })
  if (response.status === 404) return undefined
  expect(response.status).toBe(200)
  return (await response.json()) as Record<string, unknown>
}

/** /api/v1/entities/{id} with the id URL-encoded as one segment (DESIGN §3.2). */
export const apiEntity = (topicId: string) => `/api/v1/entities/${encodeURIComponent(topicId)}`
