// What uPlot needs from a browser and jsdom lacks: matchMedia (read when uPlot is imported, so import
// this module first), a 2D canvas context and Path2D. Drawing goes nowhere; the chart's data and the page
// around it are what the tests look at.
const noop = () => {}

globalThis.matchMedia ??= (query: string) =>
  ({
    matches: false,
    media: query,
    onchange: null,
    addEventListener: noop,
    removeEventListener: noop,
    addListener: noop,
    removeListener: noop,
    dispatchEvent: () => false,
  }) as MediaQueryList

const context = new Proxy(
  {},
  {
    get: (target: Record<string | symbol, unknown>, key) =>
      key in target ? target[key] : key === 'measureText' ? () => ({ width: 10 }) : noop,
    set: (target, key, value) => {
      target[key] = value
      return true
    },
  },
)
HTMLCanvasElement.prototype.getContext = (() => context) as unknown as HTMLCanvasElement['getContext']

globalThis.Path2D ??= class {
  moveTo() {}
  lineTo() {}
  rect() {}
  arc() {}
  closePath() {}
  addPath() {}
  bezierCurveTo() {}
} as unknown as typeof Path2D
