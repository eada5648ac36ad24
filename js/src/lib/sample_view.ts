// Sample grids drawn on a canvas straight from uint8 buffers (no images encoded, no base64).

import { toTypedArray, type WireArray } from "./ndarray";

export interface SampleFrame {
  step: number;
  cols: number;
  images?: WireArray;
  points?: WireArray;
  recon?: WireArray;
}

const PAD = 1;
const BACKGROUND = 40;

/** Tile uint8 images (N, H, W, C) into the canvas, `cols` per row; returns false when there are none. */
export function drawGrid(canvas: HTMLCanvasElement, images: WireArray, cols: number): boolean {
  const [n, h, w, c] = images.shape;
  if (!n) return false;
  const pixels = toTypedArray(images) as Uint8Array;
  const ncols = Math.max(1, Math.min(cols, n));
  const nrows = Math.ceil(n / ncols);
  const width = ncols * (w + PAD) + PAD;
  const height = nrows * (h + PAD) + PAD;
  canvas.width = width;
  canvas.height = height;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = rgba[i + 1] = rgba[i + 2] = BACKGROUND;
    rgba[i + 3] = 255;
  }
  for (let k = 0; k < n; k++) {
    const oy = PAD + Math.floor(k / ncols) * (h + PAD);
    const ox = PAD + (k % ncols) * (w + PAD);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((k * h + y) * w + x) * c;
        const dst = ((oy + y) * width + ox + x) * 4;
        rgba[dst] = pixels[src];
        rgba[dst + 1] = pixels[src + (c >= 3 ? 1 : 0)];
        rgba[dst + 2] = pixels[src + (c >= 3 ? 2 : 0)];
      }
    }
  }
  canvas.getContext("2d")!.putImageData(new ImageData(rgba, width, height), 0, 0);
  return true;
}

/** Scatter float32 points (N, D >= 2) on a square canvas, scaled to fit. */
export function drawPoints(canvas: HTMLCanvasElement, points: WireArray, size = 240): boolean {
  const [n, d] = points.shape;
  if (!n || d < 2) return false;
  const p = toTypedArray(points) as Float32Array;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = p[i * d], y = p[i * d + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = "#636efa";
  const sx = (size - 8) / Math.max(x1 - x0, 1e-6), sy = (size - 8) / Math.max(y1 - y0, 1e-6);
  for (let i = 0; i < n; i++) {
    const x = p[i * d], y = p[i * d + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ctx.fillRect(4 + (x - x0) * sx - 1, size - 4 - (y - y0) * sy - 1, 3, 3);
  }
  return true;
}

/** Fixed inputs (top row) above their reconstructions (bottom row). */
export function drawRecon(canvas: HTMLCanvasElement, inputs: WireArray, outputs: WireArray): boolean {
  const [n, h, w, c] = outputs.shape;
  const a = toTypedArray(inputs) as Uint8Array;
  const b = toTypedArray(outputs) as Uint8Array;
  const both = new Uint8Array(a.length + b.length);
  both.set(a, 0);
  both.set(b, a.length);
  return drawGrid(canvas, { buffer: both.buffer, dtype: "uint8", shape: [2 * n, h, w, c] }, n);
}
