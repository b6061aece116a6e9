// Display settings of this screen, kept in local storage (never a credential).
export type Theme = 'system' | 'light' | 'dark'

const KEY = 'edgetwin.settings'

interface Stored {
  theme: Theme
  kiosk: boolean
  /** The alarm horn; unset follows the mode: on at a kiosk, off elsewhere. */
  horn?: boolean
}

function load(): Stored {
  const defaults: Stored = { theme: 'system', kiosk: false }
  try {
    return { ...defaults, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Stored>) }
  } catch {
    return defaults
  }
}

/** `?kiosk=1` (the desktop app's --kiosk) or `?kiosk=0` sets the mode for this page only. */
function kioskFromUrl(): boolean | undefined {
  const value = new URLSearchParams(location.search).get('kiosk')
  return value === '1' ? true : value === '0' ? false : undefined
}

class Settings {
  theme = $state<Theme>('system')
  kiosk = $state(false)
  /** The alarm horn as chosen on this screen; undefined follows kiosk mode (see `hornOn`). */
  horn = $state<boolean | undefined>()
  /** The operating system's preference, followed while the theme is `system`. */
  private systemDark = $state(false)

  private readonly stored: Stored
  private readonly urlKiosk = kioskFromUrl()

  constructor() {
    const stored = load()
    this.stored = stored
    this.theme = stored.theme
    this.kiosk = this.urlKiosk ?? stored.kiosk
    this.horn = stored.horn
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

  /** An operator at a kiosk needs to hear alarms; a laptop in an office rarely wants a beep. */
  get hornOn(): boolean {
    return this.horn ?? this.kiosk
  }

  save(): void {
    // A mode the URL imposed is not this screen's own choice: keep the stored one unless changed here.
    const kiosk = this.kiosk === this.urlKiosk ? this.stored.kiosk : this.kiosk
    localStorage.setItem(KEY, JSON.stringify({ theme: this.theme, kiosk, horn: this.horn }))
  }
}

export const settings = new Settings()
