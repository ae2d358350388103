import type { Report } from './model.js';
import { timelineSpec } from './timeline-spec.js';

/**
 * The timeline as an SVG document, drawn in Node without a browser: Vega-Lite compiles the
 * spec, Vega renders its scene graph to SVG text. Both load here, only when a report is asked for.
 */
export async function renderTimelineSvg(report: Report): Promise<string> {
  const [{ compile }, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const { spec } = compile(timelineSpec(report) as never, { logger: vega.logger(vega.None) as never });
  // Vega's own logger writes warnings to the console: silenced, since --json owns stdout.
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logger: vega.logger(vega.None) });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
