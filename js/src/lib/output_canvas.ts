// Drawing a model's outputs (uint8 images, or float32 points over the data) on canvases, scaled up crisply.

import type { WireArray } from "./ndarray";
import { drawPointOutputs } from "./point_view";
import { drawGrid } from "./sample_view";

/** Draw outputs (images or points) on a canvas, `cols` per row; returns false when there is nothing to draw. */
export function drawOutputs(canvas: HTMLCanvasElement, outputs: WireArray, cols: number,
  reference: WireArray | null): boolean {
  return outputs.dtype === "uint8" ? drawGrid(canvas, outputs, cols) : drawPointOutputs(canvas, outputs, reference, cols);
}

/**
 * CSS size of a canvas of images: small images are scaled up by whole factors (pixelated). Returns the factor.
 * Only the width is set: with `max-width: 100%` in the stylesheet a narrow output shrinks the canvas and its
 * height follows (the canvas keeps its aspect ratio).
 */
export function scaleCanvas(canvas: HTMLCanvasElement, imageSide: number, target: number): number {
  const factor = Math.max(1, Math.floor(target / Math.max(imageSide, 1)));
  canvas.style.width = `${canvas.width * factor}px`;
  canvas.style.height = "auto";
  return factor;
}

/** Draw outputs and scale images to about `target` px per image (points keep their own size). */
export function drawScaled(canvas: HTMLCanvasElement, outputs: WireArray, cols: number, reference: WireArray | null,
  target: number): number {
  if (!drawOutputs(canvas, outputs, cols, reference)) return 0;
  if (outputs.dtype !== "uint8") {
    canvas.style.width = canvas.style.height = "";
    return 1;
  }
  return scaleCanvas(canvas, Math.max(outputs.shape[1], outputs.shape[2]), target);
}
