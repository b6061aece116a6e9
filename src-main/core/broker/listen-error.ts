/** A listen failure in words a person can act on. */
export function listenError(
  error: NodeJS.ErrnoException,
  what: string,
  host: string,
  port: number,
  flag: string,
): Error {
  const where = `${host}:${port}`
  switch (error.code) {
    case 'EADDRINUSE':
      // A busy MQTT port is usually another broker (mosquitto on a thin-edge.io device): attaching to
      // it is then what the user wants, rather than another port.
      return new Error(
        `${what} port ${where} is already in use (choose another ${flag}, or 0 for any free port` +
          `${what === 'MQTT' ? `; or attach to the broker listening there with --broker-url mqtt://${where}` : ''})`,
      )
    case 'EACCES':
      return new Error(
        `no permission to listen for ${what} on ${where} (ports below 1024 need privileges; choose another ${flag})`,
      )
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new Error(`cannot listen for ${what} on ${where}: no such local address (check --host)`)
    default:
      return new Error(`cannot listen for ${what} on ${where}: ${error.message}`)
  }
}
