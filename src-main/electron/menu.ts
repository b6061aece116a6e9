import type { MenuItemConstructorOptions } from 'electron'

export interface MenuSettings {
  platform: NodeJS.Platform
  /** Packaged builds get no developer tools. */
  packaged: boolean
  appName: string
  onAbout: () => void
  /** Opens a fresh one-time login in the window: after a logout or an expired session, the desktop user has no token to type. */
  onLogIn: () => void
}

/** The application menu: File (Log In Again, Quit), View (reload, fullscreen, zoom, dev tools when unpackaged), Help (About). */
export function menuTemplate({
  platform,
  packaged,
  appName,
  onAbout,
  onLogIn,
}: MenuSettings): MenuItemConstructorOptions[] {
  const view: MenuItemConstructorOptions[] = [
    { role: 'reload' },
    { role: 'togglefullscreen' },
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
  ]
  if (!packaged) view.push({ type: 'separator' }, { role: 'toggleDevTools' })
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [{ label: 'Log In Again', click: onLogIn }, { type: 'separator' }, { role: 'quit' }],
    },
    { label: 'View', submenu: view },
    { role: 'help', submenu: [{ label: `About ${appName}`, click: onAbout }] },
  ]
  // macOS puts Quit and About in the application menu, named after the app.
  if (platform === 'darwin') template.unshift({ role: 'appMenu', label: appName })
  return template
}
