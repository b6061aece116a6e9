import type { Operation } from './command'
import { configSnapshot, configUpdate } from './config'
import { desiredUpdate } from './desired-update'
import { firmwareUpdate } from './firmware-update'
import { logUpload } from './log-upload'
import { restart } from './restart'
import { softwareList, softwareUpdate } from './software'

export type { Equipment, Firmware, Operation, OperationContext, Payload } from './command'
export { OperationFailed } from './command'

/** Every operation a simulated child agent may support; a profile decides which it announces. */
export const OPERATIONS: readonly Operation[] = [
  restart,
  softwareList,
  softwareUpdate,
  configSnapshot,
  configUpdate,
  logUpload,
  firmwareUpdate,
  desiredUpdate,
]
