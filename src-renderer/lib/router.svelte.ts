// Hash routes, so the same bundle works from any server path and in the desktop window.
export type Route =
  | { name: 'overview' }
  | { name: 'entity'; id: string }
  | { name: 'alarms' }
  | { name: 'operations' }
  | { name: 'audit' }
  /** The cloud sync page; `section` scrolls to a part of it (the status card links to the conflicts). */
  | { name: 'sync'; section?: 'conflicts' }
  | { name: 'login'; expired: boolean }

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '')
  const [head, ...rest] = path.split('/')
  switch (head) {
    case 'entity':
      return rest.length ? { name: 'entity', id: decodeURIComponent(rest.join('/')) } : { name: 'overview' }
    case 'alarms':
      return { name: 'alarms' }
    case 'operations':
      return { name: 'operations' }
    case 'audit':
      return { name: 'audit' }
    case 'sync':
      return rest[0] === 'conflicts' ? { name: 'sync', section: 'conflicts' } : { name: 'sync' }
    case 'login':
      return { name: 'login', expired: rest[0] === 'expired' }
    default:
      return { name: 'overview' }
  }
}

export function href(route: Route): string {
  switch (route.name) {
    case 'overview':
      return '#/'
    case 'entity':
      return `#/entity/${encodeURIComponent(route.id)}`
    case 'login':
      return route.expired ? '#/login/expired' : '#/login'
    case 'sync':
      return route.section ? `#/sync/${route.section}` : '#/sync'
    default:
      return `#/${route.name}`
  }
}

class Router {
  route = $state<Route>(parseRoute(location.hash))

  constructor() {
    addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash)
    })
  }

  go(route: Route): void {
    location.hash = href(route)
  }
}

export const router = new Router()
