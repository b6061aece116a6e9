// The baseline of benchmark (a): a plain aedes broker (default in-memory persistence, no hooks) on
// TCP, in its own process like the EdgeTwin core, so publishers never share its event loop.
// Prints `ready mqtt://127.0.0.1:PORT` once listening; exits on SIGTERM.
import net from 'node:net'
import { Aedes } from 'aedes'

const broker = await Aedes.createBroker()
const server = net.createServer((socket) => broker.handle(socket))
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo
  process.stdout.write(`ready mqtt://127.0.0.1:${port}\n`)
})
const stop = () => {
  server.close()
  broker.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
