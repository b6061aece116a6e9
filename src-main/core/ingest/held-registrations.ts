import type { Registration } from './registrar'

/**
 * Registrations waiting for their parent (reference §1.4: thin-edge.io's PendingEntityStore), indexed
 * both ways so holding, replacing, releasing and dropping one costs the same however many wait.
 */
export class HeldRegistrations {
  /** By parent topic id, then by child topic id. */
  private readonly byParent = new Map<string, Map<string, Registration>>()
  /** The parent each held child waits for. */
  private readonly parentOf = new Map<string, string>()

  get size(): number {
    return this.parentOf.size
  }

  has(topicId: string): boolean {
    return this.parentOf.has(topicId)
  }

  /** Holds a registration under its parent, replacing what that child held before (under any parent). */
  hold(registration: Registration, parent: string): void {
    this.drop(registration.topicId)
    let waiting = this.byParent.get(parent)
    if (!waiting) {
      waiting = new Map()
      this.byParent.set(parent, waiting)
    }
    waiting.set(registration.topicId, registration)
    this.parentOf.set(registration.topicId, parent)
  }

  /** Forgets a child's held registration, if any. */
  drop(topicId: string): void {
    const parent = this.parentOf.get(topicId)
    if (parent === undefined) return
    this.parentOf.delete(topicId)
    const waiting = this.byParent.get(parent)
    waiting?.delete(topicId)
    if (waiting?.size === 0) this.byParent.delete(parent)
  }

  /** Removes and returns the registrations waiting for `parent`, in the order they arrived. */
  release(parent: string): Registration[] {
    const waiting = this.byParent.get(parent)
    if (!waiting) return []
    this.byParent.delete(parent)
    for (const topicId of waiting.keys()) this.parentOf.delete(topicId)
    return [...waiting.values()]
  }

  /** The first `count` held topic ids, in the order they arrived. */
  sample(count: number): string[] {
    const ids: string[] = []
    for (const topicId of this.parentOf.keys()) {
      if (ids.length >= count) break
      ids.push(topicId)
    }
    return ids
  }
}
