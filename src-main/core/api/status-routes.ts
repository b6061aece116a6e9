import { statSync } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { open } from './params'
import type { StatusView } from './types'

/** Held registrations named in the status: enough to see which parents are missing, never all of them. */
const PENDING_SAMPLE = 100

/** Liveness (no auth) and the state of the core, broker and ingest. */
export function statusRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/v1/health',
      {
        config: { public: true },
        schema: {
          summary: 'Liveness; no token needed',
          tags: ['status'],
          security: [],
          response: {
            200: { type: 'object', properties: { status: { type: 'string' }, version: { type: 'string' } } },
          },
        },
      },
      async () => ({ status: 'ok', version: parts.version }),
    )

    app.get(
      '/api/v1/status',
      {
        schema: {
          summary: 'Core, broker and ingest state',
          tags: ['status'],
          response: {
            200: open({
              broker: open(),
              ingest: open(),
              store: open(),
              disk: open(),
              logs: open(),
              entities: { type: 'integer' },
              pendingRegistrations: {
                type: 'array',
                items: { type: 'string' },
                description: `the first ${PENDING_SAMPLE} registrations waiting for their parent`,
              },
              pendingRegistrationCount: { type: 'integer' },
              simulation: { type: 'boolean', description: 'the line is the built-in simulation' },
            }),
          },
        },
      },
      async () => {
        const file = parts.db.name
        const size = (suffix: string) => {
          try {
            return statSync(file + suffix).size
          } catch {
            return 0
          }
        }
        const status: StatusView = {
          version: parts.version,
          startedAt: parts.startedAt,
          uptimeSeconds: Math.round((Date.now() - parts.startedAt) / 1000),
          broker: {
            mode: parts.options.brokerUrl ? 'external' : 'embedded',
            url: parts.mqttUrl,
            connected: parts.bus.connected,
            ...parts.bus.stats,
          },
          ingest: { ...parts.ingest.stats, pendingWrites: parts.writer.pending + parts.series.buffered },
          store: { file, bytes: size('') + size('-wal') },
          disk: parts.disk.view(),
          logs: { dropped: parts.logFile?.dropped ?? 0, error: parts.logFile?.error ?? null },
          entities: parts.entities.size,
          pendingRegistrations: parts.ingest.registrar.heldSample(PENDING_SAMPLE),
          pendingRegistrationCount: parts.ingest.registrar.heldCount,
          simulation: parts.options.sim,
        }
        return status
      },
    )
  }
}
