// One plotly.js plot in a widget: serialised calls, the host's theme (live), and no drawing while hidden.
//
// A widget in a hidden tab, a collapsed output or a view switched away has a div with no size; plotly
// then lays out at a default size and throws on resize ("Resize must be passed a displayed plot div
// element"). A PlotHost skips every call while its div is not displayed and marks the plot stale; when
// the div shows again (its ResizeObserver fires) the owner's `redraw` draws the current state once.

import { Plotly } from "./plotly";
import { plotTheme, relayoutKeys, watchTheme, withTheme } from "./theme";

/** plotly's config for every genwidgets plot: no logo, no lasso/select, the mode bar only on hover. */
export const PLOT_CONFIG = {
  displaylogo: false, responsive: false, displayModeBar: "hover",
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
};

export interface PlotHostOptions {
  /** Draw the current state from scratch (called when a stale plot is shown again). */
  redraw: () => void;
  /** Called after each draw and resize (e.g. to place overlays on the axes). */
  afterLayout?: () => void;
  /** plotly config keys that differ from PLOT_CONFIG. */
  config?: Record<string, unknown>;
}

export class PlotHost {
  private queue: Promise<unknown> = Promise.resolve();
  private drawn = false;
  private stale = false;
  private axesKey = "";
  private pending = 0;
  private readonly stops: (() => void)[] = [];

  constructor(readonly div: HTMLElement, private readonly options: PlotHostOptions) {
    const observer = new ResizeObserver(() => this.onResize());
    observer.observe(div);
    this.stops.push(() => observer.disconnect(), watchTheme(() => this.retheme()));
  }

  /** Whether the div takes up space on the page (not in a hidden tab, collapsed output or hidden view). */
  get displayed(): boolean {
    return this.div.isConnected && this.div.clientWidth > 0 && this.div.getClientRects().length > 0;
  }

  /** Whether the plot has been drawn at least once. */
  get isDrawn(): boolean {
    return this.drawn;
  }

  /** Draw `traces` with `layout` (themed); deferred while the div is not displayed. */
  draw(traces: object[], layout: Record<string, unknown>): void {
    if (!this.displayed) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.enqueue(async () => {
      const axes = axesOf(layout);
      const themed = withTheme(layout, plotTheme(this.themeRoot(), axes));
      const config = { ...PLOT_CONFIG, ...this.options.config };
      // react() into a layout with other subplots draws the new subplot's lines before laying out its axis
      // (paths of NaN, a console error each): a new set of axes gets a new plot.
      const key = axes.join(",");
      if (this.drawn && key !== this.axesKey) await Plotly.newPlot(this.div, traces, themed, config);
      else await Plotly.react(this.div, traces, themed, config);
      this.axesKey = key;
      this.drawn = true;
      this.options.afterLayout?.();
    });
  }

  /** A call on the drawn plot (extendTraces, relayout); while hidden or undrawn the plot redraws later instead. */
  update(call: () => Promise<unknown>): void {
    if (!this.drawn || !this.displayed) {
      this.stale = true;
      return;
    }
    this.enqueue(call);
  }

  /** Resolves once every queued call is done. */
  settled(): Promise<unknown> {
    return this.queue;
  }

  dispose(): void {
    this.stops.forEach((stop) => stop());
    this.enqueue(async () => Plotly.purge(this.div));
  }

  private themeRoot(): HTMLElement {
    return (this.div.closest(".gw-root") as HTMLElement | null) ?? this.div;
  }

  private onResize(): void {
    if (!this.displayed) return;
    if (this.stale || !this.drawn) {
      this.stale = false;
      this.options.redraw();
      return;
    }
    this.enqueue(async () => {
      await Plotly.Plots.resize(this.div);
      this.options.afterLayout?.();
    });
  }

  private retheme(): void {
    this.update(() => {
      // Only the axes the drawn plot has: relayout would create the others, empty and unanchored.
      const layout = (this.div as HTMLElement & { layout?: Record<string, unknown> }).layout ?? {};
      return Plotly.relayout(this.div, relayoutKeys(plotTheme(this.themeRoot(), axesOf(layout))));
    });
  }

  /**
   * Plotly calls are serialised: each waits for the previous one to finish. While any is queued the div
   * has `data-busy="true"` (tests wait for "false" before reading pixels: a settled plot, not a time).
   */
  private enqueue(call: () => Promise<unknown>): void {
    this.pending += 1;
    this.div.dataset.busy = "true";
    this.queue = this.queue.then(call).catch((err) => console.warn("genwidgets: plot update failed", err))
      .finally(() => {
        this.pending -= 1;
        if (!this.pending) this.div.dataset.busy = "false";
      });
  }
}

/** The axes a layout defines (xaxis, yaxis, yaxis2 ...): the theme styles exactly these, never adds one. */
function axesOf(layout: Record<string, unknown>): string[] {
  const axes = Object.keys(layout).filter((key) => /^[xy]axis\d*$/.test(key));
  return axes.length ? axes : ["xaxis", "yaxis"];
}
