// The alarm horn: a pulsing tone made with the Web Audio API, so no sound file is shipped.
// Browsers let a page make sound only after someone touched, clicked or typed on it (their
// autoplay policy), so the horn is armed by such a gesture; until then it cannot sound, and the
// banner says so instead of pretending.

/** A tone in the range alarm sounders use, pulsed a few times a second (not a steady whine). */
const TONE_HZ = 880
const PULSES_PER_SECOND = 2.5
const VOLUME = 0.15

type AudioContextClass = new () => AudioContext

function audioContextClass(): AudioContextClass | undefined {
  const scope = globalThis as typeof globalThis & { webkitAudioContext?: AudioContextClass }
  return scope.AudioContext ?? scope.webkitAudioContext
}

export class AlarmHorn {
  /** A gesture allowed sound on this page. */
  armed = $state(false)
  /** The tone is playing. */
  sounding = $state(false)
  private context: AudioContext | undefined
  private oscillators: OscillatorNode[] = []

  /** This browser can make the sound at all. */
  get supported(): boolean {
    return audioContextClass() !== undefined
  }

  /**
   * Arms the horn without a gesture where the page may make sound already (the desktop app's kiosk
   * window allows it); elsewhere the context stays suspended until arm() from a gesture.
   */
  armIfAllowed(): void {
    const Context = audioContextClass()
    if (!Context) return
    this.context ??= new Context()
    this.armed = this.context.state === 'running'
  }

  /** Call from a user gesture: creates or resumes the audio context that the policy allows now. */
  arm(): void {
    const Context = audioContextClass()
    if (!Context) return
    this.context ??= new Context()
    const context = this.context
    if (context.state === 'running') this.armed = true
    else
      void context.resume().then(
        () => {
          this.armed = context.state === 'running'
        },
        () => {},
      )
  }

  start(): void {
    const context = this.context
    if (this.sounding || !context || !this.armed) return
    const tone = context.createOscillator()
    tone.type = 'square'
    tone.frequency.value = TONE_HZ
    const volume = context.createGain()
    volume.gain.value = VOLUME / 2
    // A slow square wave added to the volume turns the tone on and off: the pulse of a horn.
    const pulse = context.createOscillator()
    pulse.type = 'square'
    pulse.frequency.value = PULSES_PER_SECOND
    const depth = context.createGain()
    depth.gain.value = VOLUME / 2
    pulse.connect(depth)
    depth.connect(volume.gain)
    tone.connect(volume)
    volume.connect(context.destination)
    tone.start()
    pulse.start()
    this.oscillators = [tone, pulse]
    this.sounding = true
  }

  stop(): void {
    for (const oscillator of this.oscillators) {
      oscillator.stop()
      oscillator.disconnect()
    }
    this.oscillators = []
    this.sounding = false
  }

  /** Lets go of the audio device (the banner is gone). */
  close(): void {
    this.stop()
    void this.context?.close().catch(() => {})
    this.context = undefined
    this.armed = false
  }
}
