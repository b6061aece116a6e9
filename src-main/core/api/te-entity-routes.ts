import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { CoreParts } from '../app'
import { RegistrationError } from '../ingest/registrar'
import { isObject, type JsonObject, twinKeyError } from '../telemetry/payload'
import { ENTITY_ID_SEGMENTS, formatTopic, MAIN_DEVICE, normalizeEntityId, TopicError } from '../topics'
import type { Entity } from '../twin/entity-store'
import { HttpError, topicIdParam } from './params'

/** An entity as thin-edge.io's entity store answers it (reference §1.8). */
export function teEntity(entity: Entity): JsonObject {
  const result: JsonObject = { '@topic-id': entity.topicId, '@type': entity.type }
  if (entity.parent) result['@parent'] = entity.parent
  if (entity.externalId) result['@id'] = entity.externalId
  if (entity.healthEndpoint) result['@health'] = entity.healthEndpoint
  return result
}

/**
 * Splits the path after /te/v1/entities/: a topic id (short forms padded) optionally followed by
 * `/twin[/<key>]` or `/config[/<key>]` when more than four segments are given.
 */
function parsePath(path: string): { topicId: string; resource?: 'twin' | 'config'; key?: string } {
  const segments = path.split('/')
  try {
    if (segments.length <= ENTITY_ID_SEGMENTS) return { topicId: normalizeEntityId(path.replace(/\/+$/, '')) }
    const topicId = normalizeEntityId(segments.slice(0, ENTITY_ID_SEGMENTS).join('/'))
    const [resource, key, ...rest] = segments.slice(ENTITY_ID_SEGMENTS)
    if (resource === 'twin' || resource === 'config') {
      // A key with "/" is an invalid key (400 from the key check, as thin-edge.io answers), not another path.
      const joined = [key ?? '', ...rest].join('/')
      return joined === '' ? { topicId, resource } : { topicId, resource, key: joined }
    }
    if (resource === '' && key === undefined) return { topicId }
  } catch (error) {
    if (error instanceof TopicError) throw new HttpError(400, error.message)
    throw error
  }
  throw new HttpError(404, `no resource at /te/v1/entities/${path}`)
}

const TYPE_QUERY: Record<string, Entity['type']> = {
  main: 'device',
  device: 'device',
  'child-device': 'child-device',
  service: 'service',
}

/** thin-edge.io's /te/v1/entities: the entity store over HTTP, mirrored on MQTT. */
export function teEntityRoutes(parts: CoreParts): FastifyPluginAsync {
  const { entities, bus, ingest, options } = parts
  const registrar = ingest.registrar
  const topic = (id: string, channel: Parameters<typeof formatTopic>[1]) =>
    formatTopic(id, channel, options.topicRoot)

  const find = (topicId: string): Entity => {
    const entity = entities.get(topicId)
    if (!entity) throw new HttpError(404, `Entity not found with topic id: ${topicId}`)
    return entity
  }

  const publishRegistration = (entity: Entity) =>
    bus.publish(topic(entity.topicId, { kind: 'registration' }), JSON.stringify(entity.registration), {
      retain: true,
      qos: 1,
    })

  const twinMap = (topicId: string) =>
    Object.fromEntries([...(entities.twin(topicId) ?? [])].map(([key, twin]) => [key, twin.value]))

  const setTwin = (topicId: string, key: string, value: unknown) => {
    entities.setTwin(topicId, key, value ?? undefined)
    bus.publish(topic(topicId, { kind: 'twin', key }), value === null ? '' : JSON.stringify(value), {
      retain: true,
      qos: 1,
    })
  }

  const checkKey = (key: string) => {
    const error = twinKeyError(key)
    if (error) throw new HttpError(400, error)
  }

  const asRegistrationError = (error: unknown): never => {
    if (error instanceof RegistrationError) throw new HttpError(error.status, error.message)
    throw error
  }

  return async (app) => {
    const config = { loopback: true }
    const hide = { hide: true }

    app.post<{ Body: unknown }>('/te/v1/entities', { config, schema: hide }, async (request, reply) => {
      const body = request.body
      if (!isObject(body)) throw new HttpError(400, 'the body must be a JSON object')
      const raw = body['@topic-id']
      if (typeof raw !== 'string') throw new HttpError(400, '"@topic-id" is required')
      // A topic id, not a path: more than four segments is a bad id (400), never a sub-resource.
      const topicId = topicIdParam(raw)
      if (entities.has(topicId))
        throw new HttpError(409, `An entity with topic id: ${topicId} is already registered`)
      const payload = { ...body }
      delete payload['@topic-id']
      try {
        const registration = registrar.validate(topicId, payload)
        if (registration.parent && !entities.has(registration.parent)) {
          throw new HttpError(400, `Specified parent "${registration.parent}" does not exist in the store`)
        }
        const entity = registrar.apply(registration, false)
        publishRegistration(entity)
      } catch (error) {
        asRegistrationError(error)
      }
      return reply.status(201).send({ '@topic-id': topicId })
    })

    app.get<{ Querystring: { root?: string; parent?: string; type?: string } }>(
      '/te/v1/entities',
      {
        config,
        schema: {
          ...hide,
          // Each filter once: a repeated one (?parent=a&parent=b) is a list, which is a 400 here.
          querystring: {
            type: 'object',
            properties: { root: { type: 'string' }, parent: { type: 'string' }, type: { type: 'string' } },
          },
        },
      },
      async (request) => {
        const { root, parent, type } = request.query
        if (root !== undefined && parent !== undefined) {
          throw new HttpError(400, '"root" and "parent" cannot be used together')
        }
        const wanted = type === undefined ? undefined : TYPE_QUERY[type]
        if (type !== undefined && !wanted) throw new HttpError(400, `unknown entity type "${type}"`)
        let list: Entity[]
        if (root !== undefined) list = entities.subtree(find(parsePath(root).topicId).topicId)
        else if (parent !== undefined) list = entities.children(find(parsePath(parent).topicId).topicId)
        else
          list = entities
            .subtree(MAIN_DEVICE)
            .concat(entities.all().filter((e) => !e.parent && e.topicId !== MAIN_DEVICE))
        return list.filter((e) => !wanted || e.type === wanted).map(teEntity)
      },
    )

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { '*': path } = request.params as { '*': string }
      const { topicId, resource, key } = parsePath(path)
      const method = request.method
      if (!resource) return entityResource(method, topicId, request.body, reply)
      const entity = find(topicId)
      if (resource === 'config') {
        if (method !== 'GET') return methodNotAllowed(reply)
        const value = entities.config(entity.topicId) ?? {}
        if (key === undefined) return value
        if (!isObject(value) || !(key in value))
          throw new HttpError(404, `config key "${key}" not found on ${topicId}`)
        return value[key]
      }
      return twinResource(method, entity, key, request.body, reply)
    }

    const entityResource = async (method: string, topicId: string, body: unknown, reply: FastifyReply) => {
      if (method === 'GET') return teEntity(find(topicId))
      if (method === 'DELETE') {
        const removed = await registrar.deregisterAsync(topicId)
        if (removed.length === 0) return reply.status(204).send()
        return removed.map(teEntity)
      }
      if (method === 'PATCH') {
        const entity = find(topicId)
        if (!isObject(body)) throw new HttpError(400, 'the body must be a JSON object')
        for (const field of Object.keys(body)) {
          if (field !== '@parent' && field !== '@health') throw new HttpError(400, `unknown field "${field}"`)
        }
        try {
          const registration = registrar.validate(topicId, { ...entity.registration, ...body })
          const updated = registrar.apply(registration, entity.autoRegistered)
          publishRegistration(updated)
          return teEntity(updated)
        } catch (error) {
          return asRegistrationError(error)
        }
      }
      return methodNotAllowed(reply)
    }

    const twinResource = async (
      method: string,
      entity: Entity,
      key: string | undefined,
      body: unknown,
      reply: FastifyReply,
    ) => {
      const id = entity.topicId
      if (key !== undefined) checkKey(key)
      switch (method) {
        case 'GET': {
          const twin = twinMap(id)
          if (key === undefined) return twin
          if (!(key in twin)) throw new HttpError(404, `twin key "${key}" not found on ${id}`)
          return twin[key]
        }
        case 'PUT': {
          if (key !== undefined) {
            setTwin(id, key, body ?? null)
            return body ?? null
          }
          if (!isObject(body)) throw new HttpError(400, 'the body must be a JSON object of twin keys')
          for (const k of Object.keys(body)) checkKey(k)
          // PUT on the whole twin replaces it: keys not in the body are removed, null removes too.
          for (const k of Object.keys(twinMap(id))) if (!(k in body)) setTwin(id, k, null)
          for (const [k, value] of Object.entries(body)) setTwin(id, k, value)
          return twinMap(id)
        }
        case 'DELETE':
          if (key !== undefined) {
            if (key in twinMap(id)) setTwin(id, key, null)
          } else for (const k of Object.keys(twinMap(id))) setTwin(id, k, null)
          return reply.status(204).send()
        default:
          return methodNotAllowed(reply)
      }
    }

    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'],
      url: '/te/v1/entities/*',
      config,
      schema: hide,
      handler,
    })
  }
}

function methodNotAllowed(reply: FastifyReply) {
  return reply.status(405).send({ error: 'method not allowed' })
}
