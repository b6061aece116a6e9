/**
 * How many entities each MQTT client has auto-registered since the core started, so one client
 * cannot fill the registry by publishing data for ever new ids. A deregistered entity gives its
 * place back.
 */
export class ClientQuota {
  private readonly counts = new Map<string, number>()
  /** The client whose data registered each entity. */
  private readonly clientOf = new Map<string, string>()

  count(client: string): number {
    return this.counts.get(client) ?? 0
  }

  add(client: string, topicId: string): void {
    if (this.clientOf.has(topicId)) return
    this.clientOf.set(topicId, client)
    this.counts.set(client, this.count(client) + 1)
  }

  remove(topicId: string): void {
    const client = this.clientOf.get(topicId)
    if (client === undefined) return
    this.clientOf.delete(topicId)
    const left = this.count(client) - 1
    if (left > 0) this.counts.set(client, left)
    else this.counts.delete(client)
  }
}
