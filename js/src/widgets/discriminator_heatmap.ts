// Front end of genwidgets.widgets.DiscriminatorHeatmap: what a GAN's discriminator thinks, live.
//
// `initialize` (once per model in this page) keeps the newest frame and asks Python for it once;
// `render` (once per view) draws it: a plotly heatmap (data plane or latent slice) or the score grid.
// Python sends each new frame as one message with binary buffers (see genwidgets/widgets/wire.py).

import css from "./discriminator_heatmap.css";
import { listen, setTrait, type AnyModel, type Buffers, type LiveTraits } from "../lib/anywidget";
import { el } from "../lib/dom";
import { formatScore, gradient } from "../lib/heatmap_colour";
import type { Frame } from "../lib/heatmap_frame";
import { HeatmapPlot } from "../lib/heatmap_plot";
import { drawScoreGrid, type SortOrder } from "../lib/heatmap_scores";
import { THEME_CSS } from "../lib/theme";
import { Listeners, WidgetStores } from "../lib/widget_store";
import { unpack } from "../lib/wire";

interface WidgetData {
  frame: Frame | null;
  listeners: Listeners;
}

/** The heatmap's synced traits (genwidgets/widgets/discriminator_heatmap.py). */
export interface HeatmapTraits extends LiveTraits {
  title: string;
  state: string;
  step: number;
  views: string[];
  view: string;
  score_kind: string;
  conditional: boolean;
  class_names: string[];
  label: number;
  resolution: number;
  extent: number[];
  arrows: number;
  show_points: boolean;
  show_arrows: boolean;
  examples: number;
  sort: SortOrder;
  show_patches: boolean;
  slice_resolution: number;
  latent_dim: number;
  latent_mode: string;
  latent_dims: number[];
  latent_span: number;
  latent_seed: number;
  latent_index: number;
  max_rate: number;
  frame_ms: number;
  message: string;
}

const STORES = new WidgetStores<WidgetData>(() => ({ frame: null, listeners: new Listeners() }));

function initialize({ model }: { model: AnyModel<HeatmapTraits> }): () => void {
  const data = STORES.of(model);
  return STORES.connect(model, (content: any, buffers: Buffers) => {
    const msg = unpack(content, buffers);
    if (msg?.op !== "frame") return;
    data.frame = msg as Frame;
    data.listeners.emit();
  }, {});
}

const VIEW_NAMES: Record<string, string> = {
  plane: "data plane", scores: "score grid", latent: "latent slice",
};
const SORT_NEXT: Record<SortOrder, SortOrder> = { none: "desc", desc: "asc", asc: "none" };
const SORT_TEXT: Record<SortOrder, string> = {
  none: "sort by score", desc: "sorted: most real first", asc: "sorted: most fake first",
};

function checkbox(parent: HTMLElement, className: string, text: string): HTMLInputElement {
  const label = el("label", `gw-check ${className}`, parent);
  const box = el("input", `${className}-input`, label);
  box.type = "checkbox";
  label.append(` ${text}`);
  return box;
}

function render({ model, el: host }: { model: AnyModel<HeatmapTraits>; el: HTMLElement }): () => void {
  const data = STORES.of(model);
  const cleanups: (() => void)[] = [];
  const root = el("div", "gw-root gw-heatmap", host);
  el("style", "", root).textContent = THEME_CSS + css;

  const header = el("div", "gw-heatmap-header", root);
  const title = el("span", "gw-title", header);
  const status = el("span", "gw-heatmap-status", header);

  const toolbar = el("div", "gw-heatmap-toolbar", root);
  const viewSelect = el("select", "gw-view-select", toolbar);
  const classLabel = el("label", "gw-class", toolbar);
  classLabel.append("class ");
  const classSelect = el("select", "gw-class-select", classLabel);
  const resLabel = el("label", "gw-resolution", toolbar);
  resLabel.append("resolution ");
  const resSelect = el("select", "gw-resolution-select", resLabel);
  for (const r of [32, 64, 128, 256]) Object.assign(el("option", "", resSelect), { value: String(r), text: `${r}×${r}` });
  const pointsBox = checkbox(toolbar, "gw-points", "points");
  const arrowsBox = checkbox(toolbar, "gw-arrows", "generator arrows");
  const sortButton = el("button", "gw-btn gw-sort", toolbar);
  const patchesBox = checkbox(toolbar, "gw-patches", "per-patch scores");
  const latentMode = el("select", "gw-latent-mode", toolbar);
  for (const [v, text] of [["axes", "two latent axes"], ["random", "two random directions"]]) {
    Object.assign(el("option", "", latentMode), { value: v, text });
  }
  const dimsLabel = el("label", "gw-latent-dims", toolbar);
  dimsLabel.append("axes ");
  const dimA = el("input", "gw-dim-a", dimsLabel);
  const dimB = el("input", "gw-dim-b", dimsLabel);
  for (const d of [dimA, dimB]) Object.assign(d, { type: "number", min: "0", step: "1" });
  const codeLabel = el("label", "gw-latent-index", toolbar);
  codeLabel.append("through fixed code #");
  const codeIndex = el("input", "gw-latent-index-input", codeLabel);
  Object.assign(codeIndex, { type: "number", min: "0", step: "1" });
  const reseed = el("button", "gw-btn gw-reseed", toolbar);
  reseed.textContent = "new directions";

  const legend = el("div", "gw-legend", root);
  const legendLo = el("span", "gw-legend-lo", legend);
  const legendBar = el("span", "gw-legend-bar", legend);
  const legendHi = el("span", "gw-legend-hi", legend);
  const legendTitle = el("span", "gw-legend-title", legend);
  const marks = el("div", "gw-marks-legend", root);
  const markReal = el("span", "gw-mark gw-mark-real", marks);
  markReal.textContent = "real";
  const markFake = el("span", "gw-mark gw-mark-fake", marks);
  markFake.textContent = "generated";
  const markArrow = el("span", "gw-mark gw-mark-arrow", marks);
  markArrow.textContent = "generator gradient (where G moves its points)";

  const body = el("div", "gw-heatmap-body", root);
  const plotDiv = el("div", "gw-heatmap-plot", body);
  const thumb = el("canvas", "gw-thumb", body);
  thumb.hidden = true;
  const grid = el("div", "gw-score-grid", body);
  const message = el("div", "gw-heatmap-message", root);
  const plot = new HeatmapPlot(plotDiv, thumb, () => drawFrame());

  const syncTraits = () => {
    const view = String(model.get("view"));
    root.dataset.view = view;
    root.dataset.state = String(model.get("state") ?? "");
    title.textContent = model.get("title") ?? "";
    const views: string[] = model.get("views") ?? [];
    if (viewSelect.options.length !== views.length) {
      viewSelect.replaceChildren();
      for (const v of views) Object.assign(el("option", "", viewSelect), { value: v, text: VIEW_NAMES[v] ?? v });
    }
    viewSelect.value = view;
    viewSelect.hidden = views.length < 2;
    const names: string[] = model.get("class_names") ?? [];
    classLabel.hidden = !model.get("conditional");
    if (classSelect.options.length !== names.length) {
      classSelect.replaceChildren();
      names.forEach((n, i) => Object.assign(el("option", "", classSelect), { value: String(i), text: n }));
    }
    classSelect.value = String(model.get("label"));
    resLabel.hidden = view !== "plane";
    resSelect.value = String(model.get("resolution"));
    pointsBox.checked = !!model.get("show_points");
    arrowsBox.checked = !!model.get("show_arrows");
    pointsBox.parentElement!.hidden = arrowsBox.parentElement!.hidden = view !== "plane";
    const sort = (model.get("sort") ?? "none") as SortOrder;
    root.dataset.sort = sort;
    sortButton.textContent = SORT_TEXT[sort];
    sortButton.hidden = view !== "scores";
    patchesBox.checked = !!model.get("show_patches");
    latentMode.value = String(model.get("latent_mode"));
    latentMode.hidden = view !== "latent";
    const dims: number[] = model.get("latent_dims") ?? [0, 1];
    dimA.value = String(dims[0]);
    dimB.value = String(dims[1]);
    dimA.max = dimB.max = String(Math.max(0, (model.get("latent_dim") ?? 2) - 1));
    dimsLabel.hidden = view !== "latent" || model.get("latent_mode") !== "axes";
    reseed.hidden = view !== "latent" || model.get("latent_mode") !== "random";
    codeLabel.hidden = view !== "latent";
    codeIndex.value = String(model.get("latent_index") ?? 0);
    const ms = Number(model.get("frame_ms") ?? 0);
    const step = Number(model.get("step") ?? -1);
    const state = String(model.get("state") ?? "");
    status.textContent = [state, step >= 0 ? `step ${step}` : "waiting for the first frame",
      ms > 0 ? `frame ${ms.toFixed(0)} ms` : ""].filter(Boolean).join(" · ");
    message.textContent = model.get("message") ?? "";
    message.hidden = !message.textContent;
  };

  const drawFrame = () => {
    const frame = data.frame;
    if (!frame || frame.view !== model.get("view")) return; // a frame of the old view: the new one is coming
    const { scale } = frame;
    legendBar.style.background = gradient(scale);
    legendLo.textContent = formatScore(scale, scale.zmin);
    legendHi.textContent = formatScore(scale, scale.zmax);
    const s = frame.summary;
    const means = s && s.real_mean !== null && s.fake_mean !== null
      ? ` · mean real ${formatScore(scale, s.real_mean)}, generated ${formatScore(scale, s.fake_mean)}` : "";
    const axes = frame.view === "latent" ? ` · D(G(z)) over ${frame.axes}` : "";
    legendTitle.textContent = scale.title + axes + means;
    root.dataset.scaleKind = scale.kind;
    const isPlot = frame.view !== "scores";
    plotDiv.hidden = !isPlot;
    grid.hidden = isPlot;
    patchesBox.parentElement!.hidden = frame.view !== "scores" || !frame.patches;
    const points = frame.view === "plane" && !!model.get("show_points");
    const arrows = frame.view === "plane" && !!model.get("show_arrows");
    markReal.hidden = markFake.hidden = !points;
    markArrow.hidden = !arrows;
    marks.hidden = !points && !arrows;
    if (frame.view === "plane") {
      plot.drawPlane(frame, { points: !!model.get("show_points"), arrows: !!model.get("show_arrows") });
    } else if (frame.view === "latent") {
      plot.drawLatent(frame);
    } else {
      thumb.hidden = true;
      drawScoreGrid(grid, frame, (model.get("sort") ?? "none") as SortOrder, !!model.get("show_patches"));
      root.dataset.order = Array.from(grid.children, (t) => (t as HTMLElement).dataset.index).join(",");
    }
    plot.settled().then(() => {
      root.dataset.frameStep = String(frame.step);
      root.dataset.frameView = frame.view;
    });
  };

  for (const name of ["view", "views", "title", "state", "step", "frame_ms", "message", "class_names", "label",
    "conditional", "resolution", "show_points", "show_arrows", "sort", "show_patches", "latent_mode",
    "latent_dims", "latent_dim", "latent_index"]) {
    cleanups.push(listen(model, `change:${name}`, syncTraits));
  }
  for (const name of ["show_points", "show_arrows", "sort", "show_patches", "view"]) {
    cleanups.push(listen(model, `change:${name}`, drawFrame));
  }
  viewSelect.addEventListener("change", () => setTrait(model, "view", viewSelect.value));
  classSelect.addEventListener("change", () => setTrait(model, "label", Number(classSelect.value)));
  resSelect.addEventListener("change", () => setTrait(model, "resolution", Number(resSelect.value)));
  pointsBox.addEventListener("change", () => setTrait(model, "show_points", pointsBox.checked));
  arrowsBox.addEventListener("change", () => setTrait(model, "show_arrows", arrowsBox.checked));
  patchesBox.addEventListener("change", () => setTrait(model, "show_patches", patchesBox.checked));
  sortButton.addEventListener("click", () =>
    setTrait(model, "sort", SORT_NEXT[(model.get("sort") ?? "none") as SortOrder]));
  latentMode.addEventListener("change", () => setTrait(model, "latent_mode", latentMode.value));
  const setDims = () => {
    const a = Number(dimA.value), b = Number(dimB.value);
    if (Number.isInteger(a) && Number.isInteger(b) && a !== b) setTrait(model, "latent_dims", [a, b]);
  };
  dimA.addEventListener("change", setDims);
  dimB.addEventListener("change", setDims);
  codeIndex.addEventListener("change", () => {
    const k = Number(codeIndex.value);
    if (Number.isInteger(k) && k >= 0) setTrait(model, "latent_index", k);
  });
  reseed.addEventListener("click", () => setTrait(model, "latent_seed", Number(model.get("latent_seed") ?? 0) + 1));

  cleanups.push(data.listeners.add(drawFrame));
  cleanups.push(() => plot.clear());

  syncTraits();
  drawFrame();
  root.dataset.rendered = "true";
  return () => cleanups.forEach((c) => c());
}

export default { initialize, render };
