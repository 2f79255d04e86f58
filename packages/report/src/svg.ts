// Server-side SVG through vega's own renderer (Vega-Lite -> Vega -> View.toSVG), for pictures in
// READMEs. Deterministic: text is measured by vega's estimate (not a canvas that may or may not be
// installed) and the clip/gradient ids restart for every picture.
import type { VegaLiteSpec } from './specs.ts';

export interface SvgOptions {
  /** Called with each Vega-Lite warning (default: ignored). */
  onWarning?: (message: string) => void;
}

export async function renderSvg(spec: VegaLiteSpec, opts: SvgOptions = {}): Promise<string> {
  // Loaded on first use: building specs or HTML needs neither library in Node.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const vgSpec = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0], {
    logger: forwardingLogger(opts.onWarning ?? (() => {})),
  }).spec;
  (vega as unknown as { textMetrics: { canvas(use: boolean): void } }).textMetrics.canvas(false);
  vega.resetSVGDefIds();
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Vega-Lite's logger: warnings to `onWarning` instead of the console, errors thrown. */
function forwardingLogger(onWarning: (message: string) => void) {
  let lvl = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl;
      lvl = l;
      return logger;
    },
    error(...args: unknown[]) {
      throw new Error(args.map(String).join(' '));
    },
    warn(...args: unknown[]) {
      onWarning(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as never;
}
