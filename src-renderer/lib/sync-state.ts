// The cloud link's state as a word and a tone (the colour is only a second cue): shared by the top
// bar's indicator, which is on every screen and so kept to this, and the Sync page.
import type { SyncState } from './api'

export type SyncTone = 'ok' | 'warn' | 'bad' | 'off'

export const SYNC_STATES: Record<SyncState, { word: string; tone: SyncTone }> = {
  off: { word: 'Off', tone: 'off' },
  connecting: { word: 'Connecting…', tone: 'warn' },
  connected: { word: 'Connected', tone: 'ok' },
  disconnected: { word: 'Disconnected', tone: 'bad' },
}
