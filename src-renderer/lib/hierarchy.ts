// The equipment as a tree (main device → child devices → services), built once per change of the
// entity list, and the O(n) filter and row list the navigator renders.
import type { AlarmView, EntitySummary, Severity } from './api'
import { byUrgency, waiting } from './severity'

export interface TreeNode {
  entity: EntitySummary
  /** 1 for a root, as `aria-level` counts. */
  level: number
  parent: TreeNode | undefined
  children: TreeNode[]
  /** Lower-case name and type, for the filter. */
  text: string
}

export interface Hierarchy {
  roots: TreeNode[]
  byId: Map<string, TreeNode>
}

/** Devices before services; otherwise registration order, which follows the process on a line. */
const serviceLast = (a: TreeNode, b: TreeNode) =>
  Number(a.entity.type === 'service') - Number(b.entity.type === 'service')

export function buildHierarchy(entities: Iterable<EntitySummary>): Hierarchy {
  const byId = new Map<string, TreeNode>()
  for (const entity of entities) {
    const text = `${entity.name}\n${entity.type}`.toLowerCase()
    byId.set(entity.id, { entity, level: 1, parent: undefined, children: [], text })
  }
  const roots: TreeNode[] = []
  for (const node of byId.values()) {
    const parent = node.entity.parent === null ? undefined : byId.get(node.entity.parent)
    node.parent = parent
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  const stack = [...roots]
  for (let node = stack.pop(); node; node = stack.pop()) {
    node.children.sort(serviceLast)
    for (const child of node.children) {
      child.level = node.level + 1
      stack.push(child)
    }
  }
  roots.sort(serviceLast)
  return { roots, byId }
}

/** The main device: the root device (the machine or its gateway). */
export function mainDevice(hierarchy: Hierarchy): TreeNode | undefined {
  return hierarchy.roots.find((node) => node.entity.type === 'device') ?? hierarchy.roots[0]
}

export interface Filtered {
  matches: Set<string>
  /** The matches and every ancestor of one. */
  visible: Set<string>
}

/**
 * Entities whose name or type contain every word of the query, with their ancestors, in
 * O(n): each ancestor walk stops at the first node already marked.
 */
export function filterHierarchy(hierarchy: Hierarchy, query: string): Filtered {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  const matches = new Set<string>()
  const visible = new Set<string>()
  for (const [id, node] of hierarchy.byId) {
    if (!words.every((word) => node.text.includes(word))) continue
    matches.add(id)
    for (let up: TreeNode | undefined = node; up && !visible.has(up.entity.id); up = up.parent)
      visible.add(up.entity.id)
  }
  return { matches, visible }
}

export interface Row {
  node: TreeNode
  /** `undefined` for a leaf. */
  expanded: boolean | undefined
  setSize: number
  posInSet: number
}

/**
 * The rows on screen, depth first: only expanded subtrees are walked. With a filter, the
 * ancestors of matches are open and everything else is hidden.
 */
export function visibleRows(
  hierarchy: Hierarchy,
  isExpanded: (node: TreeNode) => boolean,
  filtered?: Filtered,
): Row[] {
  const rows: Row[] = []
  const shown = (node: TreeNode) => !filtered || filtered.visible.has(node.entity.id)
  const walk = (nodes: TreeNode[]) => {
    const siblings = nodes.filter(shown)
    siblings.forEach((node, index) => {
      const children = filtered ? node.children.filter(shown) : node.children
      const expanded = children.length ? (filtered ? true : isExpanded(node)) : undefined
      rows.push({ node, expanded, setSize: siblings.length, posInSet: index + 1 })
      if (expanded) walk(children)
    })
  }
  walk(hierarchy.roots)
  return rows
}

export interface AlarmBadge {
  /** Open alarms (active and acknowledged) in the subtree. */
  count: number
  worst: Severity
  /** How many of them nobody has acknowledged yet. */
  unacknowledged: number
  /** The most urgent of them (the most recent among equals): its text says what is wrong. */
  top: AlarmView
}

/** Open alarms of each entity's subtree: how many, the worst severity, how many unacknowledged. */
export function alarmRollup(hierarchy: Hierarchy, alarms: readonly AlarmView[]): Map<string, AlarmBadge> {
  const badges = new Map<string, AlarmBadge>()
  for (const alarm of alarms) {
    if (alarm.status === 'cleared') continue
    const fresh = waiting(alarm) ? 1 : 0
    for (let node = hierarchy.byId.get(alarm.entity); node; node = node.parent) {
      const badge = badges.get(node.entity.id)
      const top = badge && byUrgency(badge.top, alarm) <= 0 ? badge.top : alarm
      badges.set(node.entity.id, {
        count: (badge?.count ?? 0) + 1,
        worst: top.severity,
        unacknowledged: (badge?.unacknowledged ?? 0) + fresh,
        top,
      })
    }
  }
  return badges
}

const HEALTH_ORDER: Record<string, number> = { down: 0, stale: 0.5, up: 2 }

/** Down entities first, then those whose communication is lost, then unknown, then up: what needs a look comes first in a list. */
export const byHealthWorstFirst = (a: EntitySummary, b: EntitySummary) =>
  (HEALTH_ORDER[a.health?.status ?? ''] ?? 1) - (HEALTH_ORDER[b.health?.status ?? ''] ?? 1)
