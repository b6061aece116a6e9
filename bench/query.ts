import pino from 'pino'
import { createCore } from '../src-main/core/app'
import { Api } from './api'
import { spawnCore, tempDir } from './processes'

const DAY = 86_400_000
const HISTORY_ENTITY = 'device/bench-history//'

export interface QueryConfig {
  days: number
  /** Sample period, ms (1,000 = 1 Hz). */
  periodMs: number
  points: number
  runs: number
  warmup: number
}

export interface QueryTiming {
  median: number
  p90: number
  max: number
}

export interface QueryResult {
  samples: number
  generateSeconds: number
  inProcess: QueryTiming
  http: QueryTiming
  resolution: string
  returnedPoints: number
  /** Sum of the buckets' counts: how many samples the answer summarizes. */
  coveredSamples: number
  /** The data dir, kept for the ready-time measurement on a data dir with history. */
  dataDir: string
}

function timing(samples: number[]): QueryTiming {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
  return { median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] as number }
}

/**
 * (e) 30 days of one 1 Hz series drawn as 1,000 points. The history is written by the core's own
 * SeriesStore and BatchWriter (so samples and minute/hour rollups are exactly what ingest would
 * write), in a core started in this process with no traffic; then `GET /api/v1/series/:id` is timed
 * over HTTP against `edgetwin serve` on that data dir, and `query()` in a core reopened in-process.
 */
export async function historyQuery(config: QueryConfig): Promise<QueryResult> {
  const dataDir = tempDir('history')
  const end = Date.now()
  const start = end - config.days * DAY
  const core = createCore({
    dataDir,
    sim: false,
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: 'silent' }),
  })
  await core.start()
  let seriesId: number
  let samples = 0
  let generateSeconds: number
  try {
    const { ingest, entities, series, writer } = core.parts
    // The first sample goes through ingest: it auto-registers the child device and creates the series.
    ingest.handle(
      {
        topic: `te/${HISTORY_ENTITY}/m/env`,
        payload: Buffer.from(JSON.stringify({ temperature: 20, time: start / 1000 })),
        retain: false,
        qos: 0,
        replay: false,
      },
      () => {},
    )
    writer.flush()
    const entity = entities.get(HISTORY_ENTITY)
    const found = entity && series.find(entity.id, 'env', 'temperature')
    if (!entity || !found) throw new Error('the history series was not created by ingest')
    seriesId = found.id
    samples = 1
    const began = performance.now()
    const flushEvery = 50_000
    for (let time = start + config.periodMs; time < end; time += config.periodMs) {
      // A slow daily wave with some noise, so min/max/avg differ per bucket.
      const value = 20 + 5 * Math.sin((2 * Math.PI * (time % DAY)) / DAY) + ((samples * 7919) % 100) / 100
      series.add(entity.id, 'env', time, ['temperature'], [value])
      if (++samples % flushEvery === 0) writer.flush()
    }
    writer.flush()
    generateSeconds = (performance.now() - began) / 1000
  } finally {
    await core.stop()
  }

  let result: Omit<QueryResult, 'inProcess'>
  const child = await spawnCore(dataDir)
  try {
    const api = new Api(child.ready)
    const http: number[] = []
    let answer = await api.series(seriesId, start, end, config.points)
    for (let i = 0; i < config.warmup + config.runs; i++) {
      const t0 = performance.now()
      answer = await api.series(seriesId, start, end, config.points)
      if (i >= config.warmup) http.push(performance.now() - t0)
    }
    result = {
      samples,
      generateSeconds,
      http: timing(http),
      resolution: answer.resolution,
      returnedPoints: answer.points.length,
      coveredSamples: answer.points.reduce((sum, p) => sum + p.count, 0),
      dataDir,
    }
  } finally {
    await child.stop()
  }

  // In-process, on the same data dir as the HTTP figure (checkpointed by the clean stops above).
  const reopened = createCore({
    dataDir,
    sim: false,
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: 'silent' }),
  })
  await reopened.start()
  try {
    const { series, options } = reopened.parts
    const inProcess: number[] = []
    for (let i = 0; i < config.warmup + config.runs; i++) {
      const t0 = performance.now()
      series.query(seriesId, start, end, config.points, options.retention.rawDays)
      if (i >= config.warmup) inProcess.push(performance.now() - t0)
    }
    return { ...result, inProcess: timing(inProcess) }
  } finally {
    await reopened.stop()
  }
}
