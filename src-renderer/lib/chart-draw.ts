// What a chart draws over its lines: limit and setpoint lines with their tags, the zones beyond the
// limits, and the entity's alarms as markers on the time axis. uPlot draw hooks, in canvas pixels.
import type uPlot from 'uplot'
import type { Severity } from './api'
import { GUIDE_DASH, type Guide } from './chart-axes'

/** An alarm of the charted entity, marked where it was raised. */
export interface AlarmMarker {
  time: number
  severity: Severity
  text: string
}

interface Look {
  text: string
  /** Fill of the zones beyond the limits. */
  zone?: string
  font: string
  severity?: Partial<Record<Severity, string>>
}

const ratio = () => (typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1)

/** Limit lines (dashed), setpoints (solid), tags at their right end, and a faint zone beyond each limit. */
export function drawGuides(
  u: uPlot,
  guides: Guide[],
  scaleOf: (series: number) => string,
  colorOf: (series: number) => string,
  look: Look,
): void {
  if (guides.length === 0) return
  const { ctx, bbox } = u
  const px = ratio()
  const right = bbox.left + bbox.width
  ctx.save()
  ctx.beginPath()
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height)
  ctx.clip()
  ctx.font = look.font.replace(/^(\d+(\.\d+)?)px/, (_m, size) => `${Number(size) * px}px`)
  ctx.textAlign = 'right'
  ctx.textBaseline = 'bottom'
  // Each series' tags sit in their own column from the right, so tags at one height do not overprint.
  const columns = [...new Set(guides.map((g) => g.series))]
  const tagWidth = Math.max(...guides.map((g) => ctx.measureText(g.tag).width)) + 8 * px
  for (const guide of guides) {
    const scale = scaleOf(guide.series)
    if (!u.scales[scale]) continue
    const y = u.valToPos(guide.value, scale, true)
    if (!Number.isFinite(y)) continue
    const color = colorOf(guide.series)
    if (guide.kind === 'high' || guide.kind === 'low') {
      // Neutral: a zone in the series' colour would read as that series' good range.
      ctx.fillStyle = look.zone ?? 'rgba(128, 128, 128, 0.08)'
      const top = guide.kind === 'high' ? bbox.top : y
      const bottom = guide.kind === 'high' ? y : bbox.top + bbox.height
      ctx.fillRect(bbox.left, top, bbox.width, Math.max(0, bottom - top))
    }
    ctx.strokeStyle = color
    ctx.lineWidth = (guide.kind === 'setpoint' ? 1.5 : 2) * px
    ctx.setLineDash(GUIDE_DASH[guide.kind].map((d) => d * px))
    ctx.beginPath()
    ctx.moveTo(bbox.left, y)
    ctx.lineTo(right, y)
    ctx.stroke()
    ctx.fillStyle = color
    ctx.fillText(guide.tag, right - 4 * px - columns.indexOf(guide.series) * tagWidth, y - 2 * px)
  }
  ctx.restore()
}

/** A thin line at each alarm's time and a triangle on the time axis, in its severity's colour. */
export function drawAlarmMarkers(u: uPlot, markers: AlarmMarker[], look: Look): void {
  if (markers.length === 0) return
  const { ctx, bbox } = u
  const px = ratio()
  const bottom = bbox.top + bbox.height
  const size = 6 * px
  ctx.save()
  for (const marker of markers) {
    const x = u.valToPos(marker.time, 'x', true)
    if (!Number.isFinite(x) || x < bbox.left || x > bbox.left + bbox.width) continue
    const color = look.severity?.[marker.severity] ?? look.text
    ctx.strokeStyle = color
    ctx.globalAlpha = 0.55
    ctx.lineWidth = px
    ctx.setLineDash([2 * px, 3 * px])
    ctx.beginPath()
    ctx.moveTo(x, bbox.top)
    ctx.lineTo(x, bottom)
    ctx.stroke()
    ctx.globalAlpha = 1
    ctx.setLineDash([])
    ctx.fillStyle = color
    ctx.beginPath()
    ctx.moveTo(x, bottom - size * 1.6)
    ctx.lineTo(x - size, bottom)
    ctx.lineTo(x + size, bottom)
    ctx.closePath()
    ctx.fill()
  }
  ctx.restore()
}

/** The alarms raised within a window, oldest first, as markers. */
export function alarmMarkers(
  alarms: ReadonlyArray<{
    firstTime: number
    lastTime: number
    severity: Severity
    text?: string
    type: string
  }>,
  window: { from: number; to: number },
): AlarmMarker[] {
  const markers: AlarmMarker[] = []
  for (const alarm of alarms) {
    // A repeated alarm is marked where it came back last; its first time when that is all there is.
    for (const time of new Set([alarm.firstTime, alarm.lastTime])) {
      if (time >= window.from && time <= window.to)
        markers.push({ time, severity: alarm.severity, text: alarm.text || alarm.type })
    }
  }
  return markers.sort((a, b) => a.time - b.time)
}
