// The score palette, shared by plotly's heatmaps and the score frames (genwidgets/scores/colour.py).

import type { Scale } from "./heatmap_frame";

/** RGB of value `v` on `scale`: linear interpolation between the stops (what plotly does too). */
export function rgbAt(scale: Scale, v: number): [number, number, number] {
  if (!Number.isFinite(v)) return [128, 128, 128];
  const span = scale.zmax - scale.zmin;
  const t = span > 0 ? Math.min(1, Math.max(0, (v - scale.zmin) / span)) : 0.5;
  const stops = scale.stops;
  for (let k = 1; k < stops.length; k++) {
    const [p1, c1] = stops[k];
    if (t <= p1 || k === stops.length - 1) {
      const [p0, c0] = stops[k - 1];
      const f = p1 > p0 ? (t - p0) / (p1 - p0) : 0;
      return [0, 1, 2].map((i) => Math.round(c0[i] + f * (c1[i] - c0[i]))) as [number, number, number];
    }
  }
  return stops[stops.length - 1][1];
}

export function cssColour(rgb: [number, number, number], alpha = 1): string {
  return alpha === 1 ? `rgb(${rgb.join(",")})` : `rgba(${rgb.join(",")},${alpha})`;
}

/** The stops as a plotly colorscale. */
export function plotlyScale(scale: Scale): [number, string][] {
  return scale.stops.map(([p, rgb]) => [p, cssColour(rgb)]);
}

/** A CSS linear-gradient of the palette, for the legend bar. */
export function gradient(scale: Scale): string {
  return `linear-gradient(to right, ${scale.stops.map(([p, rgb]) => `${cssColour(rgb)} ${100 * p}%`).join(", ")})`;
}

/** A score formatted for labels: probabilities with 3 decimals, critic scores with 3 significant digits. */
export function formatScore(scale: Scale, v: number): string {
  return scale.kind === "probability" ? v.toFixed(3) : v.toPrecision(3);
}
