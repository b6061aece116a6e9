// Operator actions on several alarms at once, answered alarm by alarm: what the core returned and
// what failed, in words, so a page can update its list and say what did not work.
import { type AlarmView, api } from './api'
import { errorText } from './error-text'

export interface ActionOutcome {
  done: AlarmView[]
  failures: string[]
}

/** Acknowledges each alarm, then adds the comment (if any) to those acknowledged. */
export async function acknowledgeAll(alarms: AlarmView[], comment = ''): Promise<ActionOutcome> {
  const text = comment.trim()
  const results = await Promise.allSettled(
    alarms.map(async (alarm) => {
      const acknowledged = await api.acknowledge(alarm.id)
      return text ? api.comment(alarm.id, text) : acknowledged
    }),
  )
  return outcome(alarms, results)
}

export async function clearAll(alarms: AlarmView[]): Promise<ActionOutcome> {
  return outcome(alarms, await Promise.allSettled(alarms.map((a) => api.clear(a.id))))
}

export async function unshelveAll(alarms: AlarmView[]): Promise<ActionOutcome> {
  return outcome(alarms, await Promise.allSettled(alarms.map((a) => api.unshelve(a.id))))
}

function outcome(alarms: AlarmView[], results: PromiseSettledResult<AlarmView>[]): ActionOutcome {
  const done: AlarmView[] = []
  const failures: string[] = []
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') done.push(result.value)
    else failures.push(`${alarms[index]?.text ?? 'alarm'}: ${errorText(result.reason)}`)
  })
  return { done, failures }
}
