// One clock for every age on screen: a single timer, running only while something shows an age,
// instead of a timer per value (the overview shows hundreds of values).
import { createSubscriber } from 'svelte/reactivity'

/** How often ages move on, in ms: "12 s ago" is precise to the second. */
export const CLOCK_TICK_MS = 1000

let now = Date.now()
let running = false

const subscribe = createSubscriber((update) => {
  running = true
  now = Date.now()
  const timer = setInterval(() => {
    now = Date.now()
    update()
  }, CLOCK_TICK_MS)
  return () => {
    running = false
    clearInterval(timer)
  }
})

export const clock = {
  /** The current time in epoch ms; read inside an effect or template, it updates every tick. */
  get now(): number {
    subscribe()
    return running ? now : Date.now()
  },
}
