import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { CoreParts } from '../app'
import { HttpError } from './params'

/** The path of a file under files/, refusing anything that would leave it. */
function resolveFile(root: string, relative: string): string {
  const decoded = relative.replace(/^\/+/, '')
  if (decoded === '' || decoded.split('/').some((s) => s === '..' || s === '.') || decoded.includes('\0')) {
    throw new HttpError(400, `invalid file path "${relative}"`)
  }
  const file = path.resolve(root, decoded)
  if (!file.startsWith(root + path.sep)) throw new HttpError(400, `invalid file path "${relative}"`)
  return file
}

/**
 * thin-edge.io's file transfer service (reference §3.3): PUT stores (201, overwrites), GET serves
 * (200/404), DELETE removes (202), under the data dir's files/. The legacy /tedge/file-transfer
 * path answers too, marked deprecated as thin-edge.io marks it.
 */
export function teFileRoutes(parts: CoreParts): FastifyPluginAsync {
  const root = path.resolve(parts.options.dataDir, 'files')
  let uploads = 0

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { '*': relative } = request.params as { '*': string }
    const file = resolveFile(root, relative)
    switch (request.method) {
      case 'PUT': {
        await mkdir(path.dirname(file), { recursive: true })
        // Write aside and rename, so a reader never sees half a file and a failed upload leaves none.
        const temp = `${file}.uploading-${process.pid}-${uploads++}`
        try {
          await pipeline(request.body as Readable, createWriteStream(temp))
          await rename(temp, file)
        } catch (error) {
          await rm(temp, { force: true })
          throw error
        }
        return reply.status(201).send()
      }
      case 'GET': {
        const info = await stat(file).catch(() => undefined)
        if (!info?.isFile()) throw new HttpError(404, `file ${relative} not found`)
        return reply
          .type('application/octet-stream')
          .header('content-length', info.size)
          .send(createReadStream(file))
      }
      case 'DELETE':
        await rm(file, { force: true, recursive: true })
        return reply.status(202).send()
      default:
        return reply.status(405).send({ error: 'method not allowed' })
    }
  }

  return async (app) => {
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
