// The latent explorer's toolbar: map layout (by output, PCA of the codes, or two dimensions), fill rule,
// class selector.
// Every control sets a synced trait; Python answers with a new map or output.

import type { AnyModel } from "./anywidget";
import type { ExplorerTraits } from "../widgets/latent_explorer";
import { el } from "./dom";

function options(select: HTMLSelectElement, items: [string, string][]): void {
  select.replaceChildren();
  for (const [value, text] of items) Object.assign(el("option", "", select), { value, textContent: text });
}

export class ExplorerToolbar {
  readonly el: HTMLDivElement;
  private readonly proj: HTMLSelectElement;
  private readonly dimX: HTMLSelectElement;
  private readonly dimY: HTMLSelectElement;
  private readonly fill: HTMLSelectElement;
  private readonly fillLabel: HTMLLabelElement;
  private layoutsKey = "";
  private readonly classLabel: HTMLLabelElement;
  private readonly classSelect: HTMLSelectElement;

  constructor(private readonly model: AnyModel<ExplorerTraits>, private readonly say: (text: string) => void) {
    this.el = el("div", "gw-toolbar");
    const projLabel = el("label", "", this.el);
    projLabel.append("map ");
    this.proj = el("select", "gw-projection", projLabel);
    this.setLayouts(["codes"]);
    this.dimX = el("select", "gw-dim-x", this.el);
    this.dimY = el("select", "gw-dim-y", this.el);
    this.fillLabel = el("label", "gw-fill-label", this.el);
    this.fillLabel.append("other components ");
    this.fill = el("select", "gw-fill", this.fillLabel);
    options(this.fill, [["nearest", "from nearest point"], ["zero", "zero (map centre)"]]);
    this.classLabel = el("label", "gw-class-label", this.el);
    this.classLabel.append("class ");
    this.classSelect = el("select", "gw-class", this.classLabel);
    this.wire();
  }

  private save<K extends keyof ExplorerTraits & string>(name: K, value: ExplorerTraits[K]): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  private wire(): void {
    this.proj.addEventListener("change", () => {
      const d = Number(this.model.get("latent_dim") ?? 0);
      const top = (this.model.get("slider_dims") ?? []) as number[];
      const choice = this.proj.value;
      if (choice === "dims") {
        this.save("dims", [top[0] ?? 0, top[1] ?? Math.min(1, d - 1)]);
        return;
      }
      this.model.set("map_layout", choice === "outputs" ? "outputs" : "codes");
      this.save("dims", []);
    });
    const saveDims = () => {
      const x = Number(this.dimX.value), y = Number(this.dimY.value);
      if (x !== y) this.save("dims", [x, y]);
      else this.say("choose two different dimensions for the map's axes");
    };
    this.dimX.addEventListener("change", saveDims);
    this.dimY.addEventListener("change", saveDims);
    this.fill.addEventListener("change", () => this.save("fill", this.fill.value));
    this.classSelect.addEventListener("change", () => this.save("label", Number(this.classSelect.value)));
  }

  /** The map choices: "by output" only where the map offers it (prior codes), then PCA and two dimensions. */
  private setLayouts(layouts: string[]): void {
    const key = layouts.join(",");
    if (key === this.layoutsKey) return;
    this.layoutsKey = key;
    const items: [string, string][] = layouts.includes("outputs") ? [["outputs", "by output"]] : [];
    options(this.proj, [...items, ["pca", "PCA of codes"], ["dims", "two dimensions"]]);
  }

  /** Show the traits' values. */
  sync(): void {
    const model = this.model;
    const d = Number(model.get("latent_dim") ?? 0);
    if (this.dimX.options.length !== d) {
      const dims: [string, string][] = Array.from({ length: d }, (_, i) => [String(i), `z[${i}]`]);
      options(this.dimX, dims);
      options(this.dimY, dims);
    }
    const info = model.get("map_info") ?? {};
    this.setLayouts(info.layouts ?? ["codes"]);
    const dims = (model.get("dims") ?? []) as number[];
    this.proj.value = dims.length === 2 ? "dims" : info.layout === "outputs" ? "outputs" : "pca";
    this.fillLabel.hidden = info.fill_applies === false;
    this.proj.disabled = d < 2;
    this.dimX.hidden = this.dimY.hidden = dims.length !== 2;
    if (dims.length === 2) {
      this.dimX.value = String(dims[0]);
      this.dimY.value = String(dims[1]);
    }
    this.fill.value = model.get("fill") ?? "nearest";
    const names = (model.get("class_names") ?? []) as string[];
    this.classLabel.hidden = names.length === 0;
    if (this.classSelect.options.length !== names.length) {
      options(this.classSelect, names.map((name, i) => [String(i), name]));
    }
    this.classSelect.value = String(model.get("label") ?? -1);
  }
}
