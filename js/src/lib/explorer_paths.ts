// Paths through latent space in the explorer: interpolation between stored codes A and B, and the
// traversal grid (one row per top-ranked dimension, swept over [-span, span]).

import type { AnyModel } from "./anywidget";
import type { ExplorerTraits } from "../widgets/latent_explorer";
import { el } from "./dom";
import type { WireArray } from "./ndarray";
import { drawScaled } from "./output_canvas";

export interface TraversalMsg { outputs: WireArray; dims: number[]; scores: number[]; measure: string; values: WireArray }
export interface PathMsg { outputs: WireArray; mode: string }

export class ExplorerPaths {
  readonly el: HTMLDivElement;
  private readonly mode: HTMLSelectElement;
  private readonly ends: HTMLSpanElement;
  private readonly interpCanvas: HTMLCanvasElement;
  private readonly interpCaption: HTMLDivElement;
  private readonly travLabels: HTMLDivElement;
  private readonly travCanvas: HTMLCanvasElement;
  private readonly travCaption: HTMLDivElement;

  constructor(private readonly model: AnyModel<ExplorerTraits>, private readonly root: HTMLElement) {
    this.el = el("div", "gw-paths");
    const bar = el("div", "gw-toolbar", this.el);
    const button = (cls: string, text: string, msg: Record<string, unknown>) => {
      const b = el("button", `gw-btn ${cls}`, bar);
      b.textContent = text;
      b.addEventListener("click", () => model.send(msg));
    };
    button("gw-btn-a", "A ← current", { op: "endpoint", which: "a" });
    button("gw-btn-b", "B ← current", { op: "endpoint", which: "b" });
    this.mode = el("select", "gw-interp-mode", bar);
    for (const m of ["linear", "spherical"]) Object.assign(el("option", "", this.mode), { value: m, textContent: m });
    this.mode.addEventListener("change", () => {
      model.set("interp_mode", this.mode.value);
      model.save_changes();
    });
    button("gw-btn-interpolate", "interpolate A → B", { op: "interpolate" });
    this.ends = el("span", "gw-caption gw-ends", bar);
    this.interpCanvas = el("canvas", "gw-interp-canvas", this.el);
    this.interpCanvas.hidden = true; // until the first interpolation arrives
    this.interpCaption = el("div", "gw-caption", this.el);
    const trav = el("div", "gw-traversal", this.el);
    this.travLabels = el("div", "gw-traversal-labels", trav);
    this.travCanvas = el("canvas", "gw-traversal-canvas", trav);
    this.travCaption = el("div", "gw-caption gw-traversal-caption", this.el);
  }

  /** Show the traits' values (mode, stored ends). */
  sync(): void {
    this.mode.value = this.model.get("interp_mode") ?? "linear";
    const e = this.model.get("endpoints") ?? {};
    this.ends.textContent = `A: ${e.a ?? "unset"} · B: ${e.b ?? "unset"}`;
  }

  /** Draw a traversal grid with its row labels (dimension and ranking score). */
  drawTraversal(t: TraversalMsg, reference: WireArray | null): void {
    const factor = drawScaled(this.travCanvas, t.outputs, t.values.shape[0], reference, 64);
    const image = t.outputs.dtype === "uint8";
    this.travLabels.replaceChildren();
    const rowHeight = image ? (t.outputs.shape[1] + 1) * factor : 0;
    t.dims.forEach((dim, i) => {
      const label = el("div", "gw-traversal-label", this.travLabels);
      label.textContent = `z[${dim}]`;
      label.title = `${t.measure}: ${t.scores[i] !== undefined ? t.scores[i].toPrecision(3) : "?"}`;
      if (rowHeight) label.style.height = `${rowHeight}px`;
    });
    this.travLabels.style.paddingTop = image ? `${factor}px` : "0";
    const span = Number(this.model.get("span") ?? 3).toFixed(1);
    this.travCaption.textContent = `traversal around current z: one row per dimension (ranked by ${t.measure}), `
      + `each swept over [-${span}, ${span}] with the others fixed`;
    this.root.dataset.traversalRows = String(t.dims.length);
  }

  /** Draw an interpolation strip from A to B. */
  drawInterpolation(path: PathMsg, reference: WireArray | null): void {
    drawScaled(this.interpCanvas, path.outputs, path.outputs.shape[0], reference, 64);
    this.interpCanvas.hidden = false;
    this.interpCaption.textContent = `${path.mode} interpolation from A to B (${path.outputs.shape[0]} steps)`;
    this.root.dataset.interpolation = path.mode;
  }
}
