// Display settings of this screen, kept in local storage (never a credential).
export type Theme = 'system' | 'light' | 'dark'

const KEY = 'edgetwin.settings'

interface Stored {
  theme: Theme
  kiosk: boolean
}

function load(): Stored {
  const defaults: Stored = { theme: 'system', kiosk: false }
  try {
    const stored = { ...defaults, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Stored>) }
    // The desktop app's --kiosk opens the page with ?kiosk=1.
    if (new URLSearchParams(location.search).get('kiosk') === '1') stored.kiosk = true
    return stored
  } catch {
    return defaults
  }
}

class Settings {
  theme = $state<Theme>('system')
  kiosk = $state(false)
  /** The operating system's preference, followed while the theme is `system`. */
  private systemDark = $state(false)

  constructor() {
    const stored = load()
    this.theme = stored.theme
    this.kiosk = stored.kiosk
    // jsdom (the component tests) has no matchMedia.
    if (typeof matchMedia === 'function') {
      const query = matchMedia('(prefers-color-scheme: dark)')
      this.systemDark = query.matches
      query.addEventListener('change', (event) => {
        this.systemDark = event.matches
      })
    }
  }

  get dark(): boolean {
    return this.theme === 'dark' || (this.theme === 'system' && this.systemDark)
  }

  save(): void {
    localStorage.setItem(KEY, JSON.stringify({ theme: this.theme, kiosk: this.kiosk }))
  }
}

export const settings = new Settings()
