// The score grid: real and generated images, each framed by its score's colour, sortable by score,
// with per-patch scores drawn over the image when the discriminator outputs a spatial map.

import { cssColour, formatScore, rgbAt } from "./heatmap_colour";
import type { ScoresFrame } from "./heatmap_frame";
import { el } from "./dom";
import { toTypedArray } from "./ndarray";

export type SortOrder = "none" | "desc" | "asc";

/** Indices of `scores` in `sort` order (stable, like numpy's argsort(kind="stable")). */
export function sortOrder(scores: ArrayLike<number>, sort: SortOrder): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  if (sort === "desc") idx.sort((a, b) => scores[b] - scores[a] || a - b);
  else if (sort === "asc") idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx;
}

function imageData(pixels: Uint8Array, k: number, h: number, w: number, c: number): ImageData {
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    const src = (k * h * w + p) * c;
    rgba[4 * p] = pixels[src];
    rgba[4 * p + 1] = pixels[src + (c >= 3 ? 1 : 0)];
    rgba[4 * p + 2] = pixels[src + (c >= 3 ? 2 : 0)];
    rgba[4 * p + 3] = 255;
  }
  return new ImageData(rgba, w, h);
}

/** Draw the grid into `host` (replacing what was there). */
export function drawScoreGrid(host: HTMLElement, frame: ScoresFrame, sort: SortOrder, patches: boolean): void {
  const [n, h, w, c] = frame.images.shape;
  const pixels = toTypedArray(frame.images) as Uint8Array;
  const scores = toTypedArray(frame.scores) as Float32Array;
  const real = toTypedArray(frame.real) as Uint8Array;
  const maps = frame.patches ? (toTypedArray(frame.patches) as Float32Array) : null;
  const [, ph, pw] = frame.patches?.shape ?? [0, 0, 0];
  host.replaceChildren();
  for (const k of sortOrder(scores, sort)) {
    const tile = el("div", "gw-tile", host);
    const colour = rgbAt(frame.scale, scores[k]);
    tile.style.borderColor = cssColour(colour);
    tile.dataset.score = String(scores[k]);
    tile.dataset.real = real[k] ? "1" : "0";
    tile.dataset.index = String(k);
    const box = el("div", "gw-tile-image", tile);
    const canvas = el("canvas", "gw-tile-canvas", box);
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d")!.putImageData(imageData(pixels, k, h, w, c), 0, 0);
    if (maps && patches) {
      const overlay = el("canvas", "gw-tile-patches", box);
      overlay.width = pw;
      overlay.height = ph;
      const rgba = new Uint8ClampedArray(pw * ph * 4);
      for (let p = 0; p < pw * ph; p++) {
        const [r, g, b] = rgbAt(frame.scale, maps[k * pw * ph + p]);
        rgba.set([r, g, b, 150], 4 * p);
      }
      overlay.getContext("2d")!.putImageData(new ImageData(rgba, pw, ph), 0, 0);
    }
    const caption = el("div", "gw-tile-caption", tile);
    el("span", real[k] ? "gw-badge gw-badge-real" : "gw-badge gw-badge-fake", caption).textContent =
      real[k] ? "real" : "fake";
    el("span", "gw-tile-score", caption).textContent = formatScore(frame.scale, scores[k]);
  }
}
