// Training curves in plotly.js as small multiples: one row per metric group (losses; discriminator
// outputs on 0-1; ELBO terms ...), sharing the step axis. Per metric a faint raw trace and a smoothed
// one; appends use extendTraces; applied hyperparameter edits are dotted lines across every row.

import { editText, type EditMark } from "./format";
import { groupMetrics, type MetricGroup } from "./metric_groups";
import type { MetricStore, StoreChange } from "./metric_store";
import { Plotly } from "./plotly";
import { PlotHost } from "./plot_host";
import { ema, emptyEma, type EmaState } from "./smoothing";

export const COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"];

/** Pixels per group row, and around the rows. */
const ROW_PX = 150;
const MARGIN = { l: 48, r: 12, t: 24, b: 40 };
const GAP = 0.12;
/** Rough widths (px) of a character of a row title (bold 11 px) and of its metric keys (11 px). */
const TITLE_CHAR_PX = 6.8;
const KEY_CHAR_PX = 6.2;

/** The plot's height for `groups` rows (the panel reserves it before the first metrics arrive). */
export function curvesHeight(groups: number): number {
  const rows = Math.max(1, groups);
  return Math.round(rows * ROW_PX / (1 - GAP * (rows - 1) / rows)) + MARGIN.t + MARGIN.b;
}

/** The groups of `columns`; one empty row (the plot's frame, "waiting for the first metrics") when none. */
function groupsOf(columns: string[]): MetricGroup[] {
  const groups = groupMetrics(columns);
  return groups.length ? groups : [{ title: "", columns: [], range: null, loggable: true }];
}

function axisKey(row: number): string {
  return row === 0 ? "yaxis" : `yaxis${row + 1}`;
}

export class CurvePlot {
  private ema: EmaState[] = [];
  private drawn = 0;
  private marks: EditMark[] = [];
  private groups: MetricGroup[] = [];
  /** Whether row titles are left out (the plot is too narrow for title and keys: the keys stay). */
  private keysOnly = false;
  private readonly host: PlotHost;

  constructor(
    private readonly div: HTMLElement,
    private readonly store: MetricStore,
    private smoothing: number,
    private logScale: boolean,
    private readonly expected: string[],
  ) {
    this.groups = groupsOf(expected);
    this.host = new PlotHost(div, { redraw: () => this.redraw(), afterLayout: () => this.fitTitles() });
    this.reserve();
  }

  /** Apply a store change: extend the traces with new rows, or redraw everything. */
  update(change: StoreChange): void {
    if (change.kind === "append" && this.drawn === change.from && this.drawn > 0 && this.host.isDrawn) {
      this.extend(change.from);
    } else {
      this.redraw();
    }
  }

  setSmoothing(weight: number): void {
    this.smoothing = weight;
    this.redraw();
  }

  setLogScale(on: boolean): void {
    this.logScale = on;
    this.redraw();
  }

  /** Mark applied hyperparameter changes as dotted vertical lines, labelled with the new values. */
  setMarks(marks: EditMark[]): void {
    this.marks = marks.filter((m) => !m.planned);
    this.host.update(() => Plotly.relayout(this.div, this.markLayout()));
  }

  dispose(): void {
    this.host.dispose();
  }

  /** Resolves once every queued draw is done. */
  settled(): Promise<unknown> {
    return this.host.settled();
  }

  /** Hold the plot's final height from the first frame, so nothing below it moves when metrics arrive. */
  private reserve(): void {
    this.div.style.height = `${curvesHeight(this.groups.length)}px`;
  }

  private markLayout(): { shapes: object[]; annotations: object[] } {
    return {
      shapes: this.marks.map((m) => ({
        type: "line", xref: "x", yref: "paper", x0: m.step, x1: m.step, y0: 0, y1: 1,
        line: { color: "#888", width: 1, dash: "dot" },
      })),
      annotations: [
        ...this.groupTitles(),
        ...this.marks.map((m) => ({
          x: m.step, xref: "x", y: 1, yref: "paper", text: editText(m.values), showarrow: false,
          xanchor: "left", yanchor: "bottom", font: { size: 10 }, hovertext: `step ${m.step}`,
          bgcolor: "rgba(0,0,0,0)",
        })),
      ],
    };
  }

  /** Row domains, top row first. */
  private domains(): [number, number][] {
    const n = Math.max(1, this.groups.length);
    const gap = n > 1 ? GAP : 0;
    const h = (1 - gap * (n - 1)) / n;
    return this.groups.map((_, row) => {
      const top = 1 - row * (h + gap);
      return [Math.max(0, top - h), top];
    });
  }

  /** Each row's title with its metrics' names in their colours (the curves' legend, next to the curves). */
  private groupTitles(): object[] {
    const domains = this.domains();
    const names = this.store.columns.length ? this.store.columns : this.expected;
    return this.groups.map((g, row) => {
      const keys = g.columns.map((j) => `<span style="color:${COLOURS[j % COLOURS.length]}">━ ${escapeHtml(names[j] ?? "")}</span>`);
      const bare = this.keysOnly || (g.columns.length === 1 && names[g.columns[0]] === g.title);
      const title = bare ? keys.join("  ") : `<b>${escapeHtml(g.title)}</b>   ${keys.join("  ")}`;
      return {
        text: title, xref: "paper", yref: "paper", x: 0, y: domains[row][1], xanchor: "left", yanchor: "bottom",
        showarrow: false, font: { size: 11 }, align: "left", hovertext: g.title || undefined,
      };
    });
  }

  /** Leave the row titles out when a title and its keys would not fit the plot's width (the keys stay). */
  private fitTitles(): void {
    const width = this.div.clientWidth - MARGIN.l;
    if (width <= 0) return;
    const names = this.store.columns.length ? this.store.columns : this.expected;
    const needed = Math.max(0, ...this.groups.map((g) => TITLE_CHAR_PX * (g.title.length + 3)
      + g.columns.reduce((sum, j) => sum + KEY_CHAR_PX * ((names[j] ?? "").length + 4), 0)));
    const keysOnly = needed > width;
    if (keysOnly !== this.keysOnly) {
      this.keysOnly = keysOnly;
      this.redraw();
    }
  }

  private redraw(): void {
    const { store } = this;
    const columns = store.columns;
    const fresh = groupsOf(columns);
    if (columns.length && JSON.stringify(fresh) !== JSON.stringify(this.groups)) {
      this.groups = fresh;
      this.reserve();
    }
    const rowOf = new Map<number, number>();
    this.groups.forEach((g, row) => g.columns.forEach((j) => rowOf.set(j, row)));
    const traces: object[] = [];
    const w = this.smoothing;
    this.ema = columns.map(() => emptyEma());
    columns.forEach((name, j) => {
      const colour = COLOURS[j % COLOURS.length];
      const row = rowOf.get(j) ?? 0;
      const yaxis = row === 0 ? "y" : `y${row + 1}`;
      const smooth = ema(store.series[j], w, this.ema[j]);
      traces.push({
        type: "scatter", mode: "lines", name: `${name} (raw)`, legendgroup: name, showlegend: false, yaxis,
        x: store.steps.slice(), y: store.series[j].slice(), line: { color: colour, width: 1 },
        opacity: w > 0 ? 0.3 : 1, hovertemplate: `${name} %{y:.4g}<extra></extra>`,
      });
      traces.push({
        type: "scatter", mode: "lines", name, legendgroup: name, visible: w > 0 ? true : "legendonly", yaxis,
        x: store.steps.slice(), y: smooth, line: { color: colour, width: 2 },
        hovertemplate: `${name} (smoothed) %{y:.4g}<extra></extra>`,
      });
    });
    const layout: Record<string, unknown> = {
      height: curvesHeight(this.groups.length), margin: MARGIN, hovermode: "x unified",
      xaxis: { title: { text: "step" }, zeroline: false, anchor: axisKey(this.groups.length - 1).replace("axis", "") },
      showlegend: false,
      uirevision: "keep",
      ...this.markLayout(),
    };
    if (!columns.length) {
      (layout.annotations as object[]).push({ text: "waiting for the first metrics", xref: "paper", yref: "paper",
        x: 0.5, y: 0.5, showarrow: false, font: { size: 12 } });
    }
    const domains = this.domains();
    this.groups.forEach((g, row) => {
      const log = this.logScale && g.loggable;
      layout[axisKey(row)] = {
        domain: domains[row], zeroline: false, type: log ? "log" : "linear", anchor: "x",
        ...(g.range && !log ? { range: g.range, autorange: false } : { autorange: true }),
      };
    });
    this.drawn = store.length;
    this.host.draw(traces, layout);
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
    this.host.update(() => Plotly.extendTraces(this.div, { x, y }, indices));
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
