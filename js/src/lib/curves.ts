// Loss curves in plotly.js: per metric a faint raw trace and a smoothed one; appends use extendTraces.

import { lazyModule } from "./lazy_plotly";
import { editText, type EditMark } from "./format";
import type { MetricStore, StoreChange } from "./metric_store";
import { ema, emptyEma, type EmaState } from "./smoothing";

/** plotly.js-basic-dist-min, evaluated at the first draw (see lazy_plotly.ts). */
const Plotly = lazyModule(() => require("plotly.js-basic-dist-min") as PlotlyLike);

export const COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"];

const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

export class CurvePlot {
  private ema: EmaState[] = [];
  private drawn = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private marks: EditMark[] = [];

  constructor(
    private div: HTMLElement,
    private store: MetricStore,
    private smoothing: number,
    private logScale: boolean,
  ) {}

  /** Apply a store change: extend the traces with new rows, or redraw everything. */
  update(change: StoreChange): void {
    if (change.kind === "append" && this.drawn === change.from && this.drawn > 0) this.extend(change.from);
    else this.redraw();
  }

  setSmoothing(weight: number): void {
    this.smoothing = weight;
    this.redraw();
  }

  setLogScale(on: boolean): void {
    this.logScale = on;
    this.enqueue(() => Plotly.relayout(this.div, { "yaxis.type": on ? "log" : "linear" }));
  }

  /** Mark applied hyperparameter changes as dotted vertical lines, labelled with the new values. */
  setMarks(marks: EditMark[]): void {
    this.marks = marks.filter((m) => !m.planned);
    this.enqueue(() => Plotly.relayout(this.div, this.markLayout()));
  }

  private markLayout(): { shapes: object[]; annotations: object[] } {
    return {
      shapes: this.marks.map((m) => ({
        type: "line", xref: "x", yref: "paper", x0: m.step, x1: m.step, y0: 0, y1: 1,
        line: { color: "#888", width: 1, dash: "dot" },
      })),
      annotations: this.marks.map((m) => ({
        x: m.step, xref: "x", y: 1, yref: "paper", text: editText(m.values), showarrow: false,
        xanchor: "left", yanchor: "top", font: { size: 10, color: "#666" }, hovertext: `step ${m.step}`,
      })),
    };
  }

  resize(): void {
    this.enqueue(() => Plotly.Plots.resize(this.div));
  }

  dispose(): void {
    this.enqueue(async () => Plotly.purge(this.div));
  }

  /** Plotly calls are serialised: each waits for the previous draw to finish. */
  private enqueue(call: () => Promise<unknown>): void {
    this.queue = this.queue.then(call).catch((err) => console.warn("genwidgets: plot update failed", err));
  }

  private redraw(): void {
    const { store } = this;
    const traces: object[] = [];
    const w = this.smoothing;
    this.ema = store.columns.map(() => emptyEma());
    store.columns.forEach((name, j) => {
      const colour = COLOURS[j % COLOURS.length];
      const smooth = ema(store.series[j], w, this.ema[j]);
      traces.push({
        type: "scatter", mode: "lines", name: `${name} (raw)`, legendgroup: name, showlegend: false,
        x: store.steps.slice(), y: store.series[j].slice(), line: { color: colour, width: 1 },
        opacity: w > 0 ? 0.3 : 1, hovertemplate: "%{y:.4g}",
      });
      traces.push({
        type: "scatter", mode: "lines", name, legendgroup: name, visible: w > 0 ? true : "legendonly",
        x: store.steps.slice(), y: smooth, line: { color: colour, width: 2 }, hovertemplate: "%{y:.4g}",
      });
    });
    const layout = {
      height: 320, margin: { l: 50, r: 10, t: 10, b: 40 }, hovermode: "x unified",
      xaxis: { title: { text: "step" }, zeroline: false },
      yaxis: { type: this.logScale ? "log" : "linear", zeroline: false },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", uirevision: "keep",
      font: { family: "Open Sans, DejaVu Sans, sans-serif", size: 11 },
      ...this.markLayout(),
    };
    this.drawn = store.length;
    this.enqueue(() => Plotly.react(this.div, traces, layout, CONFIG));
  }

  private extend(from: number): void {
    const { store } = this;
    const x: number[][] = [];
    const y: number[][] = [];
    const indices: number[] = [];
    const steps = store.steps.slice(from);
    store.columns.forEach((_, j) => {
      x.push(steps, steps);
      y.push(store.series[j].slice(from), ema(store.series[j], this.smoothing, this.ema[j], from));
      indices.push(2 * j, 2 * j + 1);
    });
    this.drawn = store.length;
    this.enqueue(() => Plotly.extendTraces(this.div, { x, y }, indices));
  }
}
