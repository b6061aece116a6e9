import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import { externalStates, parseWorkflow } from './definition'
import type { WorkflowDefinition } from './model'
import { shellTemplateWarnings } from './shell-templates'

interface Loaded {
  definition: WorkflowDefinition
  text: string
}

/**
 * The workflows the agent runs: the built-in ones, overridden by `<data-dir>/operations/*.toml`
 * (reference §3.4: a capability per workflow; the agent reloads them when the folder changes). Every version a command started with
 * is kept, so a command resumes with the definition it began with even after its file changed.
 */
export class WorkflowRegistry {
  private current = new Map<string, Loaded>()
  private readonly versions = new Map<string, Loaded>()

  constructor(
    private readonly deps: {
      dir: string
      db: Database
      /** Built-in workflow TOML per operation. */
      builtins: Map<string, string>
      logger: Logger
    },
  ) {}

  start(): void {
    this.reload()
  }

  operations(): string[] {
    return [...this.current.keys()]
  }

  get(operation: string): WorkflowDefinition | undefined {
    return this.current.get(operation)?.definition
  }

  /** The definition of a version a command runs with; recorded in the store when first used. */
  version(operation: string, version: string): WorkflowDefinition | undefined {
    const known = this.versions.get(`${operation}@${version}`)
    if (known) return known.definition
    const row = this.deps.db
      .prepare('SELECT source, definition FROM workflow_versions WHERE version = ?')
      .get(version) as { source: string; definition: string } | undefined
    if (!row) return undefined
    const loaded = { definition: this.parse(row.definition, row.source), text: row.definition }
    this.versions.set(`${operation}@${version}`, loaded)
    return loaded.definition
  }

  /** Keeps the definition a command starts with. */
  remember(definition: WorkflowDefinition): void {
    const loaded = this.versions.get(`${definition.operation}@${definition.version}`)
    if (!loaded || definition.source === 'builtin') return
    this.deps.db
      .prepare(
        'INSERT OR IGNORE INTO workflow_versions (version, operation, source, definition) VALUES (?, ?, ?, ?)',
      )
      .run(definition.version, definition.operation, definition.source, loaded.text)
  }

  reload(): void {
    const next = new Map<string, Loaded>()
    for (const [operation, text] of this.deps.builtins) {
      next.set(operation, this.load(text, 'builtin'))
    }
    let files: string[] = []
    try {
      files = readdirSync(this.deps.dir)
        .filter((f) => f.endsWith('.toml'))
        .sort()
    } catch (err) {
      this.deps.logger.warn({ err, dir: this.deps.dir }, 'cannot read workflow definitions')
    }
    for (const file of files) {
      const source = path.join(this.deps.dir, file)
      let text: string
      try {
        text = readFileSync(source, 'utf8')
      } catch (err) {
        this.deps.logger.warn({ err, source }, 'cannot read workflow definition')
        continue
      }
      const loaded = this.load(text, source)
      const { definition } = loaded
      if (definition.invalid)
        this.deps.logger.warn({ source, reason: definition.invalid }, 'invalid workflow')
      const external = externalStates(definition)
      // Allowed (thin-edge.io): another participant moves the command on from these states.
      if (external.length)
        this.deps.logger.info({ source, states: external }, 'workflow leaves states to others')
      for (const warning of shellTemplateWarnings(definition)) {
        this.deps.logger.warn(
          { source, state: warning.state, templates: warning.templates },
          `workflow ${definition.operation}: ${warning.message}`,
        )
      }
      // No operation could be read (not TOML, no `operation`): thin-edge.io ignores the file, and
      // an empty name would publish the capability `te/<device>/cmd/`.
      if (definition.operation === '') continue
      // thin-edge.io: a user workflow for a built-in operation replaces the built-in one.
      next.set(definition.operation, loaded)
    }
    this.current = next
  }

  private load(text: string, source: string): Loaded {
    const loaded = { definition: this.parse(text, source), text }
    this.versions.set(`${loaded.definition.operation}@${loaded.definition.version}`, loaded)
    return loaded
  }

  private parse(text: string, source: string): WorkflowDefinition {
    const definition = parseWorkflow(text, source)
    // thin-edge.io marks the commands of its own workflows with `"@version": "builtin"`.
    return source === 'builtin' ? { ...definition, version: 'builtin' } : definition
  }
}
