type LogFn = (obj: object | string, msg?: string) => void

/** The subset of a pino logger the simulator uses, so the app's logger plugs in and tests need none. */
export interface SimLogger {
  info: LogFn
  warn: LogFn
  error: LogFn
  debug: LogFn
}

const ignore: LogFn = () => {}

export const silentLogger: SimLogger = { info: ignore, warn: ignore, error: ignore, debug: ignore }

export interface SimStats {
  /** Messages handed to the MQTT clients since creation. */
  published: number
}
