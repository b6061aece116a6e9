import path from 'node:path'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { CoreParts } from '../app'
import { HttpError } from './params'
import { FileStore } from './te-file-store'

/**
 * thin-edge.io's file transfer service (reference §3.3): PUT stores (201, overwrites), GET serves
 * (200/404), DELETE removes (202), under the data dir's files/. The legacy /tedge/file-transfer
 * path answers too, marked deprecated as thin-edge.io marks it. An upload is streamed to disk and
 * bounded by `maxUploadBytes` (413).
 */
export function teFileRoutes(parts: CoreParts): FastifyPluginAsync {
  const { dataDir, maxUploadBytes } = parts.options
  const store = new FileStore(
    path.resolve(dataDir, 'files'),
    path.resolve(dataDir, 'uploads'),
    maxUploadBytes,
  )

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { '*': relative } = request.params as { '*': string }
    const file = store.resolve(relative)
    switch (request.method) {
      case 'PUT':
        try {
          await store.put(
            file,
            request.body as Readable | undefined,
            Number(request.headers['content-length']),
          )
        } catch (error) {
          // The rest of a refused body is not read: the connection ends with the answer.
          if (error instanceof HttpError && error.statusCode === 413) reply.header('connection', 'close')
          throw error
        }
        return reply.status(201).send()
      case 'GET': {
        const found = await store.open(file)
        if (!found) throw new HttpError(404, `file ${relative} not found`)
        return reply
          .type('application/octet-stream')
          .header('content-length', found.size)
          .send(found.handle.createReadStream())
      }
      case 'DELETE':
        await store.remove(file)
        return reply.status(202).send()
      default:
        return reply.status(405).send({ error: 'method not allowed' })
    }
  }

  return async (app) => {
    await store.start()
    // Files are any bytes: hand the body over as a stream instead of parsing it.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    const options = { config: { loopback: true }, schema: { hide: true } }
    app.route({ method: ['GET', 'PUT', 'DELETE'], url: '/te/v1/files/*', ...options, handler })
    app.route({
      method: ['GET', 'PUT', 'DELETE'],
      url: '/tedge/file-transfer/*',
      ...options,
      handler: (request, reply) => {
        reply
          .header('deprecation', 'true')
          .header('sunset', 'Thu, 31 Dec 2025 23:59:59 GMT')
          .header('link', '</te/v1/files>; rel="deprecation"')
        return handler(request, reply)
      },
    })
  }
}
