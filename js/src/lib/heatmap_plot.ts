// The heatmap views in plotly.js (cartesian build): D(x) over the data plane with points and arrows,
// or D(G(z)) over a latent plane with a thumbnail of G(z) under the cursor.

import { plotlyScale } from "./heatmap_colour";
import type { LatentFrame, PlaneFrame } from "./heatmap_frame";
import { toTypedArray } from "./ndarray";
import { PlotHost } from "./plot_host";
import { columns, FAKE_MARKER, REAL_MARKER } from "./points_plot";
import { drawGrid } from "./sample_view";

export interface PlotOptions {
  points: boolean;
  arrows: boolean;
}

/** Rows of a (res, res) float32 grid as views (no copies); plotly reads z[i][j] at (x[j], y[i]). */
function rows(frame: PlaneFrame | LatentFrame): Float32Array[] {
  const z = toTypedArray(frame.z) as Float32Array;
  const [h, w] = frame.z.shape;
  return Array.from({ length: h }, (_, i) => z.subarray(i * w, (i + 1) * w));
}

/** Arrow shafts as one line trace (segments split by NaN) and heads as markers oriented along them. */
function arrowTraces(arrows: PlaneFrame["arrows"]): object[] {
  const a = toTypedArray(arrows) as Float32Array;
  const n = arrows.shape[0];
  const x: number[] = [], y: number[] = [], hx: number[] = [], hy: number[] = [], angle: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x0, y0, dx, dy] = [a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]];
    if (!(Math.abs(dx) + Math.abs(dy) > 0)) continue;
    x.push(x0, x0 + dx, NaN);
    y.push(y0, y0 + dy, NaN);
    hx.push(x0 + dx);
    hy.push(y0 + dy);
    angle.push(90 - (Math.atan2(dy, dx) * 180) / Math.PI); // plotly's marker angle: clockwise from up
  }
  const colour = "rgba(20,20,20,0.85)";
  return [
    { type: "scatter", mode: "lines", name: "generator gradient", x, y, hoverinfo: "skip",
      line: { color: colour, width: 1.2 }, connectgaps: false, legendgroup: "arrows" },
    { type: "scatter", mode: "markers", name: "arrow heads", x: hx, y: hy, hoverinfo: "skip", showlegend: false,
      marker: { symbol: "triangle-up", size: 6, angle, color: colour }, legendgroup: "arrows" },
  ];
}

function heatmapTrace(frame: PlaneFrame | LatentFrame, hover: string): object {
  const [x0, x1, y0, y1] = frame.extent;
  const [h, w] = frame.z.shape;
  const { scale } = frame;
  return {
    type: "heatmap", name: "score", z: rows(frame), x0: x0 + (x1 - x0) / w / 2, dx: (x1 - x0) / w,
    y0: y0 + (y1 - y0) / h / 2, dy: (y1 - y0) / h, zmin: scale.zmin, zmax: scale.zmax, zsmooth: false,
    colorscale: plotlyScale(scale), showscale: false, hovertemplate: hover,
  };
}

function layout(frame: PlaneFrame | LatentFrame, xTitle: string, yTitle: string): Record<string, unknown> {
  const [x0, x1, y0, y1] = frame.extent;
  return {
    autosize: true, margin: { l: 50, r: 10, t: 10, b: 44 },
    xaxis: { range: [x0, x1], title: { text: xTitle }, zeroline: false, constrain: "domain", showgrid: false },
    yaxis: { range: [y0, y1], title: { text: yTitle }, zeroline: false, scaleanchor: "x", constrain: "domain",
      showgrid: false },
    showlegend: false, // the widget's own legend line names the points and arrows (see discriminator_heatmap.ts)
    uirevision: frame.view,
  };
}

export class HeatmapPlot {
  private latest: LatentFrame | null = null;
  private hoverBound = false;
  private readonly host: PlotHost;

  /** `redraw` draws the widget's current frame (when a plot hidden meanwhile shows again). */
  constructor(private div: HTMLElement, private thumb: HTMLCanvasElement, redraw: () => void) {
    this.host = new PlotHost(div, { redraw, afterLayout: () => this.bindHover() });
  }

  /** Draw the data-plane view. */
  drawPlane(frame: PlaneFrame, opts: PlotOptions): void {
    this.latest = null;
    this.thumb.hidden = true;
    const traces: object[] = [heatmapTrace(frame, "x %{x:.3f}, y %{y:.3f}<br>score %{z:.4g}<extra></extra>")];
    if (opts.points) {
      const real = columns(frame.real), fake = columns(frame.fake);
      traces.push(
        { type: "scatter", mode: "markers", name: "real", x: real.x, y: real.y, hoverinfo: "skip",
          marker: REAL_MARKER },
        { type: "scatter", mode: "markers", name: "generated", x: fake.x, y: fake.y, hoverinfo: "skip",
          marker: FAKE_MARKER },
      );
    }
    if (opts.arrows) traces.push(...arrowTraces(frame.arrows));
    this.host.draw(traces, layout(frame, "x", "y"));
  }

  /** Draw the latent-slice view; hovering a cell shows the nearest thumbnail of G(z). */
  drawLatent(frame: LatentFrame): void {
    this.latest = frame;
    const [a, b] = frame.axes.includes(" x ") ? frame.axes.split(" x ") : ["direction u", "direction v"];
    const traces = [heatmapTrace(frame, `${a} %{x:.2f}, ${b} %{y:.2f}<br>D(G(z)) %{z:.4g}<extra></extra>`)];
    this.host.draw(traces, layout(frame, a, b));
    this.thumb.hidden = !frame.thumbs || !this.thumb.dataset.cell; // shown once a hover has drawn one
  }

  private bindHover(): void {
    if (this.hoverBound) return;
    const gd = this.div as HTMLElement & { on?: (ev: string, cb: (e: any) => void) => void };
    if (!gd.on) return;
    this.hoverBound = true;
    gd.on("plotly_hover", (event: any) => {
      const frame = this.latest, point = event?.points?.[0];
      if (!frame?.thumbs || !point) return;
      const [t, , h, w, c] = frame.thumbs.shape;
      const [x0, x1, y0, y1] = frame.extent;
      const j = Math.min(t - 1, Math.max(0, Math.floor(((point.x - x0) / (x1 - x0)) * t)));
      const i = Math.min(t - 1, Math.max(0, Math.floor(((point.y - y0) / (y1 - y0)) * t)));
      const all = toTypedArray(frame.thumbs) as Uint8Array;
      const size = h * w * c, k = i * t + j;
      const one = all.slice(k * size, (k + 1) * size);
      drawGrid(this.thumb, { buffer: one.buffer, dtype: "uint8", shape: [1, h, w, c] }, 1);
      this.thumb.dataset.cell = `${i},${j}`;
      this.thumb.hidden = false;
    });
  }

  clear(): void {
    this.host.dispose();
  }

  /** Resolves once every queued draw is done. */
  settled(): Promise<unknown> {
    return this.host.settled();
  }
}
