// Stands in for Electron's utility process in plain Node (tests only): `process.parentPort` over
// Node's IPC channel, with the same { data } message events and postMessage as Electron's ParentPort.
const { EventEmitter } = require('node:events')

const port = new EventEmitter()
port.postMessage = (message) => process.send(message)
process.on('message', (data) => port.emit('message', { data, ports: [] }))
process.parentPort = port
