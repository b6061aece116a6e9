import type { EventOut } from './line-output'
import type { Prng } from './prng'
import { FILLER } from './topology'

const PRODUCTS = [
  { code: 'SW05', name: 'Sparkling Water 0.5 L', batchSize: 600 },
  { code: 'ST05', name: 'Still Water 0.5 L', batchSize: 500 },
  { code: 'LM05', name: 'Lemonade 0.5 L', batchSize: 400 },
] as const

type Product = (typeof PRODUCTS)[number]

function productAt(index: number): Product {
  return PRODUCTS[index % PRODUCTS.length] ?? PRODUCTS[0]
}

/** Production orders on the filler: batches of a product's batch size, sometimes followed by a changeover. */
export class BatchRunner {
  private product = 0
  private seq = 0
  private active = false
  private filled = 0
  private rejected = 0

  constructor(private readonly rng: Prng) {}

  /** Bottles the current batch still needs; 0 between batches (during a changeover). */
  get remaining(): number {
    return this.active ? productAt(this.product).batchSize - this.filled : 0
  }

  start(events: EventOut[]): void {
    const product = productAt(this.product)
    this.seq++
    this.active = true
    this.filled = 0
    this.rejected = 0
    events.push({
      entity: FILLER,
      type: 'batch_start',
      text: `Batch ${this.batchId()} started: ${product.batchSize} × ${product.name}`,
      fragments: { batch: { id: this.batchId(), product: product.code, target: product.batchSize } },
    })
  }

  /**
   * Counts this second's bottles. When the batch is complete it ends, and either the next batch starts
   * or a changeover begins: the return value is the changeover's duration in seconds, else 0.
   */
  count(bottles: number, rejects: number, events: EventOut[]): number {
    if (!this.active) return 0
    this.filled += bottles
    this.rejected += rejects
    if (this.remaining > 0) return 0

    const product = productAt(this.product)
    this.active = false
    events.push({
      entity: FILLER,
      type: 'batch_end',
      text: `Batch ${this.batchId()} completed: ${this.filled} filled, ${this.rejected} rejected`,
      fragments: {
        batch: { id: this.batchId(), product: product.code, filled: this.filled, rejected: this.rejected },
      },
    })
    if (!this.rng.chance(0.4)) {
      this.start(events)
      return 0
    }
    const next = (this.product + 1 + this.rng.int(0, PRODUCTS.length - 2)) % PRODUCTS.length
    const nextProduct = productAt(next)
    events.push({
      entity: FILLER,
      type: 'product_changeover',
      text: `Product changeover: ${product.name} → ${nextProduct.name}`,
      fragments: { product: { from: product.code, to: nextProduct.code } },
    })
    this.product = next
    return this.rng.int(60, 120)
  }

  private batchId(): string {
    return `L3-${String(this.seq).padStart(5, '0')}`
  }
}
