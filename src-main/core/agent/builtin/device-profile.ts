import type { BuiltinOperation } from './builtin'

// thin-edge.io's built-in device_profile workflow (reference §3.2): each entry of `operations` runs
// as a sub-operation in turn, then the profile's name and version become `twin/device_profile`.
const WORKFLOW = `operation = "device_profile"

[init]
action = "proceed"
on_success = "scheduled"

[scheduled]
action = "proceed"
on_success = "executing"

[executing]
action = "proceed"
on_success = "next_operation"

[next_operation]
iterate = "\${.payload.operations}"
on_next = "apply_operation"
on_success = "twin_update"

[apply_operation]
operation = "\${.payload.@next.item.operation}"
input = "\${.payload.@next.item.payload}"
on_exec = "awaiting_operation"

[awaiting_operation]
action = "await-operation-completion"
on_success = "next_operation"
on_error = "failed"

[twin_update]
action = "builtin:device_profile:twin_update"
on_success = "successful"

[successful]
action = "cleanup"

[failed]
action = "cleanup"
`

export function deviceProfileOperation(options: {
  /** Publishes a retained twin fragment of the command's entity. */
  publishTwin: (entity: string, key: string, value: unknown) => Promise<void>
}): BuiltinOperation {
  return {
    name: 'device_profile',
    workflow: WORKFLOW,
    capability: () => ({}),
    steps: {
      async twin_update({ operation }) {
        const { name, version } = operation.payload
        await options.publishTwin(operation.entity, 'device_profile', { name, version })
        return {}
      },
    },
  }
}
