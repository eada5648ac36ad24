// Outputs of models on point data (2-D toys): drawn over the data, one colour per row of outputs.

import { PALETTE } from "./latent_map_plot";
import { toTypedArray, type WireArray } from "./ndarray";

/** Draw `outputs` (N, D) over the grey `reference` (M, 2) on a square canvas; `perRow` outputs share a colour. */
export function drawPointOutputs(canvas: HTMLCanvasElement, outputs: WireArray, reference: WireArray | null,
  perRow: number, size = 220): boolean {
  const [n, d] = outputs.shape;
  if (!n || d < 2) return false;
  const out = toTypedArray(outputs) as Float32Array;
  const ref = reference ? (toTypedArray(reference) as Float32Array) : new Float32Array(0);
  const m = reference ? reference.shape[0] : 0;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const grow = (x: number, y: number) => {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  };
  for (let i = 0; i < m; i++) grow(ref[2 * i], ref[2 * i + 1]);
  for (let i = 0; i < n; i++) grow(out[i * d], out[i * d + 1]);
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, size, size);
  const sx = (size - 12) / Math.max(x1 - x0, 1e-6), sy = (size - 12) / Math.max(y1 - y0, 1e-6);
  const px = (x: number) => 6 + (x - x0) * sx, py = (y: number) => size - 6 - (y - y0) * sy;
  ctx.fillStyle = "#c8c8c8";
  for (let i = 0; i < m; i++) ctx.fillRect(px(ref[2 * i]) - 1, py(ref[2 * i + 1]) - 1, 2, 2);
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = PALETTE[Math.floor(i / Math.max(perRow, 1)) % PALETTE.length];
    ctx.beginPath();
    ctx.arc(px(out[i * d]), py(out[i * d + 1]), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  return true;
}
