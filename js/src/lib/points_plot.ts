// The panel's view of a 2-D model's samples: generated points over fixed real ones, as a plotly scatter on
// the square plane the discriminator heatmap uses (the same real examples and extent), so the two line up.

import { toTypedArray, type WireArray } from "./ndarray";
import { PlotHost } from "./plot_host";

/** Fixed real examples (N, 2) float32 and the plane [x0, x1, y0, y1] around them (Python: samples.plane_reference). */
export interface PlaneReference {
  real: WireArray;
  extent: [number, number, number, number];
}

/** Real points dark with a light rim, generated points orange: both stand out on the heatmap's colours too. */
export const REAL_MARKER = { size: 4, color: "rgba(20,20,20,0.8)", line: { color: "rgba(255,255,255,0.9)", width: 0.6 } };
export const FAKE_MARKER = { size: 4.5, color: "rgba(255,140,0,0.95)" };

/** x and y columns of float32 points (N, D >= 2). */
export function columns(points: WireArray): { x: Float32Array; y: Float32Array } {
  const p = toTypedArray(points) as Float32Array;
  const [n, d] = points.shape;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = p[i * d];
    y[i] = p[i * d + 1];
  }
  return { x, y };
}

export class PointsPlot {
  private readonly host: PlotHost;
  private last: { reference: PlaneReference; points: WireArray; step: number } | null = null;

  constructor(div: HTMLElement) {
    this.host = new PlotHost(div, { redraw: () => this.redraw() });
  }

  draw(reference: PlaneReference, points: WireArray, step: number): void {
    this.last = { reference, points, step };
    this.redraw();
  }

  dispose(): void {
    this.host.dispose();
  }

  private redraw(): void {
    if (!this.last) return;
    const { reference, points } = this.last;
    const [x0, x1, y0, y1] = reference.extent;
    const real = columns(reference.real), fake = columns(points);
    const traces = [
      { type: "scatter", mode: "markers", name: "real", x: real.x, y: real.y, marker: REAL_MARKER,
        hovertemplate: "real (%{x:.2f}, %{y:.2f})<extra></extra>" },
      { type: "scatter", mode: "markers", name: "generated", x: fake.x, y: fake.y, marker: FAKE_MARKER,
        hovertemplate: "generated (%{x:.2f}, %{y:.2f})<extra></extra>" },
    ];
    this.host.draw(traces, {
      autosize: true, margin: { l: 36, r: 8, t: 24, b: 30 }, showlegend: true,
      legend: { orientation: "h", x: 0, y: 1, yanchor: "bottom", font: { size: 10 } },
      xaxis: { range: [x0, x1], zeroline: false, constrain: "domain" },
      yaxis: { range: [y0, y1], zeroline: false, scaleanchor: "x", constrain: "domain" },
      uirevision: "keep",
    });
  }
}
