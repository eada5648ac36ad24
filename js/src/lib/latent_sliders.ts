// One slider per top-ranked latent dimension; moving one asks the kernel to decode the changed code.
// Each row shows the slider's value; its ranking score (KL, variance ...) is in the row's tooltip.

import { el } from "./dom";

export interface SliderSpec { dims: number[]; scores: number[]; measure: string; span: number }

export class LatentSliders {
  readonly el: HTMLDivElement;
  private inputs = new Map<number, { input: HTMLInputElement; value: HTMLSpanElement }>();
  private key = "";

  constructor(private readonly onSlide: (dim: number, value: number, final: boolean) => void) {
    this.el = el("div", "gw-sliders");
  }

  /** Rebuild the rows when the dimensions or range change; then show the values of `z`. */
  sync(spec: SliderSpec, z: number[]): void {
    const key = JSON.stringify([spec.dims, spec.span, spec.measure]);
    if (key !== this.key) {
      this.key = key;
      this.el.replaceChildren();
      this.inputs.clear();
      el("div", "gw-sliders-caption", this.el).textContent =
        `latent dimensions, ranked by ${spec.measure || "importance"}`;
      spec.dims.forEach((dim, i) => {
        const row = el("label", "gw-slider-row", this.el);
        row.dataset.dim = String(dim);
        el("span", "gw-slider-name", row).textContent = `z[${dim}]`;
        const input = el("input", "gw-slider-input", row);
        Object.assign(input, { type: "range", min: String(-spec.span), max: String(spec.span), step: "0.01" });
        const value = el("span", "gw-slider-value", row);
        row.title = `z[${dim}]: ${spec.measure || "score"} ${formatScore(spec.scores[i])}`;
        const slide = (final: boolean) => {
          value.textContent = formatValue(parseFloat(input.value));
          this.onSlide(dim, parseFloat(input.value), final);
        };
        input.addEventListener("input", () => slide(false));
        input.addEventListener("change", () => slide(true));
        this.inputs.set(dim, { input, value });
      });
    }
    for (const [dim, { input, value }] of this.inputs) {
      if (document.activeElement !== input && z[dim] !== undefined) {
        input.value = String(z[dim]);
        value.textContent = formatValue(z[dim]);
      }
    }
  }
}

function formatScore(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "";
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(2) : "";
}
