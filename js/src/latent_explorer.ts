// Front end of genwidgets.widgets.LatentExplorer: the map (WebGL scatter), the decoded output, sliders,
// class selector, interpolation and traversal grids.
//
// `initialize` (once per model in this page) keeps what Python sent (map, newest output, paths) in a store
// and paces probe requests; `render` (once per view) draws from that store and returns its cleanup.
// Arrays arrive as binary buffers (see genwidgets/widgets/wire.py).

import css from "./latent_explorer.css";
import { listen, type AnyModel, type Buffers } from "./lib/anywidget";
import { el, nonce } from "./lib/dom";
import { LatentMapPlot } from "./lib/latent_map_plot";
import { LatentSliders } from "./lib/latent_sliders";
import { toTypedArray, type WireArray } from "./lib/ndarray";
import { drawPointOutputs } from "./lib/point_view";
import { RequestPacer } from "./lib/request_pacer";
import { drawGrid } from "./lib/sample_view";
import { unpack } from "./lib/wire";

interface MapMsg { points: WireArray; labels: WireArray | null; thumbs: WireArray | null; data_points: WireArray | null }
interface OutputMsg {
  seq: number; ack: number; output: WireArray; z: WireArray; point: WireArray; base_index: number | null;
  picked?: boolean;
}
interface TraversalMsg { outputs: WireArray; dims: number[]; scores: number[]; measure: string; values: WireArray }
interface PathMsg { outputs: WireArray; mode: string }

interface Store {
  map: MapMsg | null;
  output: OutputMsg | null;
  traversal: TraversalMsg | null;
  interpolation: PathMsg | null;
  pacer: RequestPacer;
  listeners: Set<(what: string) => void>;
}

const STORES = new Map<string, Store>();

function store(model: AnyModel): Store {
  const uid = String(model.get("uid"));
  let s = STORES.get(uid);
  if (!s) {
    s = {
      map: null, output: null, traversal: null, interpolation: null, listeners: new Set(),
      pacer: new RequestPacer((msg) => model.send(msg)),
    };
    STORES.set(uid, s);
  }
  return s;
}

function initialize({ model }: { model: AnyModel }): () => void {
  const s = store(model);
  const mine = nonce();
  const onMessage = (content: any, buffers: Buffers) => {
    const msg = unpack(content, buffers);
    const op = msg?.op as string | undefined;
    if (op === "map") {
      if (msg.nonce && msg.nonce !== mine) return; // another page's hello
      s.map = msg;
    } else if (op === "output") {
      s.pacer.answered(msg.seq, msg.ack ?? msg.seq);
      s.output = msg;
    } else if (op === "traversal") {
      s.traversal = msg;
    } else if (op === "interpolation") {
      s.interpolation = msg;
    } else {
      return;
    }
    for (const l of s.listeners) l(op);
  };
  const stop = listen(model, "msg:custom", onMessage);
  model.send({ op: "hello", nonce: mine });
  return () => {
    stop();
    STORES.delete(String(model.get("uid")));
  };
}

/** Draw outputs (images or points) on a canvas, `cols` per row. */
function drawOutputs(canvas: HTMLCanvasElement, outputs: WireArray, cols: number, reference: WireArray | null): boolean {
  return outputs.dtype === "uint8" ? drawGrid(canvas, outputs, cols)
    : drawPointOutputs(canvas, outputs, reference, cols);
}

/** CSS size of a canvas of images: small images are scaled up by whole factors (pixelated). */
function scaleCanvas(canvas: HTMLCanvasElement, imageSide: number, target: number): number {
  const factor = Math.max(1, Math.floor(target / Math.max(imageSide, 1)));
  canvas.style.width = `${canvas.width * factor}px`;
  canvas.style.height = `${canvas.height * factor}px`;
  return factor;
}

function render({ model, el: host }: { model: AnyModel; el: HTMLElement }): () => void {
  const s = store(model);
  const cleanups: (() => void)[] = [];
  const root = el("div", "gw-latent-explorer", host);
  el("style", "", root).textContent = css;

  const header = el("div", "gw-header", root);
  const title = el("span", "gw-title", header);
  const info = el("span", "gw-map-info", header);

  const toolbar = el("div", "gw-toolbar", root);
  const projLabel = el("label", "", toolbar);
  projLabel.append("map ");
  const proj = el("select", "gw-projection", projLabel);
  const dimX = el("select", "gw-dim-x", toolbar);
  const dimY = el("select", "gw-dim-y", toolbar);
  const fillLabel = el("label", "", toolbar);
  fillLabel.append("other components ");
  const fill = el("select", "gw-fill", fillLabel);
  for (const [v, text] of [["nearest", "from nearest point"], ["zero", "zero (map centre)"]]) {
    const o = el("option", "", fill);
    o.value = v;
    o.textContent = text;
  }
  const classLabel = el("label", "gw-class-label", toolbar);
  classLabel.append("class ");
  const classSelect = el("select", "gw-class", classLabel);

  const body = el("div", "gw-body", root);
  const mapBox = el("div", "gw-map-box", body);
  const mapDiv = el("div", "gw-map", mapBox);
  const fillNote = el("div", "gw-caption gw-fill-note", mapBox);
  const side = el("div", "gw-side", body);
  // The decoded output and, beside it, the hovered map point: fixed boxes, so nothing below them moves.
  const views = el("div", "gw-views", side);
  const output = el("canvas", "gw-output-canvas", views);
  const hoverBox = el("div", "gw-hover-box", views);
  const hover = el("canvas", "gw-hover-canvas", hoverBox);
  const hoverCaption = el("div", "gw-caption gw-hover-caption", hoverBox);
  const outputCaption = el("div", "gw-caption gw-output-caption", side);
  const sliders = new LatentSliders((dim, value, final) => s.pacer.request({ op: "slide", dim, value, final }));
  side.appendChild(sliders.el);

  const paths = el("div", "gw-paths", root);
  const interpBar = el("div", "gw-toolbar", paths);
  const setA = el("button", "gw-btn gw-btn-a", interpBar);
  setA.textContent = "A ← current";
  const setB = el("button", "gw-btn gw-btn-b", interpBar);
  setB.textContent = "B ← current";
  const mode = el("select", "gw-interp-mode", interpBar);
  for (const m of ["linear", "spherical"]) {
    const o = el("option", "", mode);
    o.value = o.textContent = m;
  }
  const interpolate = el("button", "gw-btn gw-btn-interpolate", interpBar);
  interpolate.textContent = "interpolate A → B";
  const ends = el("span", "gw-caption gw-ends", interpBar);
  const interpCanvas = el("canvas", "gw-interp-canvas", paths);
  interpCanvas.hidden = true; // until the first interpolation arrives
  const interpCaption = el("div", "gw-caption", paths);
  const travBox = el("div", "gw-traversal", paths);
  const travLabels = el("div", "gw-traversal-labels", travBox);
  const travCanvas = el("canvas", "gw-traversal-canvas", travBox);
  const travCaption = el("div", "gw-caption gw-traversal-caption", paths);
  const notice = el("div", "gw-notice", root);

  const plot = new LatentMapPlot(mapDiv, {
    probe: (x, y, final) => {
      plot.setProbe([x, y]);
      s.pacer.request({ op: "probe", x, y, final });
    },
    hover: (index) => showHover(index),
    pick: (index) => s.pacer.request({ op: "pick", index }),
  });
  (root as any).gwStats = s.pacer.stats;

  const showHover = (index: number | null) => {
    const map = s.map;
    const thumbs = map?.thumbs;
    if (index === null || !map) {
      hover.style.visibility = "hidden";
      hoverCaption.textContent = "";
      return;
    }
    const labels = map.labels ? (toTypedArray(map.labels) as Int32Array) : null;
    const names = model.get("class_names") as string[];
    const label = labels ? labels[index] : null;
    hoverCaption.textContent = `point ${index}` + (label !== null ? ` · class ${names[label] ?? label}` : "");
    root.dataset.hover = String(index);
    if (!thumbs) { hover.style.visibility = "hidden"; return; }
    const [, h, w, c] = thumbs.shape;
    const view = thumbs.buffer instanceof DataView ? thumbs.buffer : new DataView(thumbs.buffer);
    const one = new DataView(view.buffer, view.byteOffset + index * h * w * c, h * w * c);
    drawGrid(hover, { buffer: one, dtype: "uint8", shape: [1, h, w, c] }, 1);
    scaleCanvas(hover, Math.max(h, w), 64);
    hover.style.visibility = "visible";
  };

  const syncTraits = () => {
    title.textContent = model.get("title") ?? "";
    const mi = model.get("map_info") ?? {};
    const step = mi.step === null || mi.step === undefined ? "" : ` · model at step ${mi.step}`;
    info.textContent = `${mi.description ?? ""} · ${mi.projection ?? ""}${step}`;
    fillNote.textContent = `probe: click or drag on the map; ${model.get("fill_note") ?? ""}`;
    notice.textContent = model.get("notice") ?? "";
    const d = Number(model.get("latent_dim") ?? 0);
    const dims = (model.get("dims") ?? []) as number[];
    if (proj.options.length === 0) {
      for (const [v, text] of [["pca", "PCA"], ["dims", "two dimensions"]]) {
        const o = el("option", "", proj);
        o.value = v;
        o.textContent = text;
      }
      for (const sel of [dimX, dimY]) {
        for (let i = 0; i < d; i++) {
          const o = el("option", "", sel);
          o.value = String(i);
          o.textContent = `z[${i}]`;
        }
      }
    }
    proj.value = dims.length === 2 ? "dims" : "pca";
    dimX.hidden = dimY.hidden = dims.length !== 2;
    if (dims.length === 2) { dimX.value = String(dims[0]); dimY.value = String(dims[1]); }
    proj.disabled = d < 2;
    fill.value = model.get("fill") ?? "nearest";
    const names = (model.get("class_names") ?? []) as string[];
    classLabel.hidden = names.length === 0;
    if (classSelect.options.length !== names.length) {
      classSelect.replaceChildren();
      names.forEach((name, i) => {
        const o = el("option", "", classSelect);
        o.value = String(i);
        o.textContent = name;
      });
    }
    classSelect.value = String(model.get("label") ?? -1);
    mode.value = model.get("interp_mode") ?? "linear";
    const e = model.get("endpoints") ?? {};
    ends.textContent = `A: ${e.a ?? "unset"} · B: ${e.b ?? "unset"}`;
    sliders.sync({ dims: model.get("slider_dims") ?? [], scores: model.get("slider_scores") ?? [],
      measure: model.get("slider_measure") ?? "", span: Number(model.get("span") ?? 3) }, model.get("z") ?? []);
  };

  const syncStore = (what: string) => {
    if ((what === "map" || what === "all") && s.map) {
      const mi = model.get("map_info") ?? {};
      void plot.setMap(s.map.points, s.map.labels, mi.axis_titles ?? [], model.get("class_names") ?? []).then(() => {
        root.dataset.mapPoints = String(plot.length);
      });
    }
    if ((what === "output" || what === "all") && s.output) {
      const o = s.output;
      if (drawOutputs(output, o.output, 1, s.map?.data_points ?? null)) {
        if (o.output.dtype === "uint8") scaleCanvas(output, Math.max(o.output.shape[1], o.output.shape[2]), 168);
        else output.style.width = output.style.height = "";
      }
      const p = toTypedArray(o.point) as Float32Array;
      plot.setProbe([p[0], p[1]]);
      outputCaption.textContent = o.base_index === null ? "decoded current z"
        : o.picked ? `decoded code of map point ${o.base_index}`
          : `decoded current z (other components from map point ${o.base_index})`;
      root.dataset.outputs = String(s.pacer.stats.answered);
      root.dataset.outputSeq = String(o.seq);
    }
    if ((what === "traversal" || what === "all") && s.traversal) {
      const t = s.traversal;
      const steps = t.values.shape[0];
      if (drawOutputs(travCanvas, t.outputs, steps, s.map?.data_points ?? null)) {
        const image = t.outputs.dtype === "uint8";
        const factor = image ? scaleCanvas(travCanvas, Math.max(t.outputs.shape[1], t.outputs.shape[2]), 48) : 1;
        if (!image) travCanvas.style.width = travCanvas.style.height = "";
        travLabels.replaceChildren();
        const rowHeight = image ? (t.outputs.shape[1] + 1) * factor : 0;
        t.dims.forEach((dim, i) => {
          const label = el("div", "gw-traversal-label", travLabels);
          label.textContent = `z[${dim}] ${t.scores[i] !== undefined ? t.scores[i].toPrecision(2) : ""}`;
          if (rowHeight) label.style.height = `${rowHeight}px`;
        });
        travLabels.style.paddingTop = image ? `${factor}px` : "0";
      }
      const span = Number(model.get("span") ?? 3).toFixed(1);
      travCaption.textContent = `traversal around current z: one row per dimension (ranked by ${t.measure}), `
        + `each swept over [-${span}, ${span}] with the others fixed`;
      root.dataset.traversalRows = String(t.dims.length);
    }
    if ((what === "interpolation" || what === "all") && s.interpolation) {
      const path = s.interpolation;
      if (drawOutputs(interpCanvas, path.outputs, path.outputs.shape[0], s.map?.data_points ?? null)
        && path.outputs.dtype === "uint8") {
        scaleCanvas(interpCanvas, Math.max(path.outputs.shape[1], path.outputs.shape[2]), 48);
      }
      interpCanvas.hidden = false;
      interpCaption.textContent = `${path.mode} interpolation from A to B (${path.outputs.shape[0]} steps)`;
      root.dataset.interpolation = path.mode;
    }
  };

  for (const name of ["title", "map_info", "fill_note", "notice", "dims", "fill", "class_names", "label",
    "interp_mode", "endpoints", "slider_dims", "slider_scores", "slider_measure", "span", "z", "latent_dim"]) {
    cleanups.push(listen(model, `change:${name}`, syncTraits));
  }
  const save = (name: string, value: unknown) => { model.set(name, value); model.save_changes(); };
  proj.addEventListener("change", () => {
    const d = Number(model.get("latent_dim") ?? 0);
    const top = (model.get("slider_dims") ?? []) as number[];
    save("dims", proj.value === "pca" ? [] : [top[0] ?? 0, top[1] ?? Math.min(1, d - 1)]);
  });
  const saveDims = () => {
    const x = Number(dimX.value), y = Number(dimY.value);
    if (x !== y) save("dims", [x, y]);
    else notice.textContent = "choose two different dimensions for the map's axes";
  };
  dimX.addEventListener("change", saveDims);
  dimY.addEventListener("change", saveDims);
  fill.addEventListener("change", () => save("fill", fill.value));
  classSelect.addEventListener("change", () => save("label", Number(classSelect.value)));
  mode.addEventListener("change", () => save("interp_mode", mode.value));
  setA.addEventListener("click", () => model.send({ op: "endpoint", which: "a" }));
  setB.addEventListener("click", () => model.send({ op: "endpoint", which: "b" }));
  interpolate.addEventListener("click", () => model.send({ op: "interpolate" }));

  s.listeners.add(syncStore);
  cleanups.push(() => s.listeners.delete(syncStore));
  const resize = new ResizeObserver(() => plot.resize());
  resize.observe(mapDiv);
  cleanups.push(() => resize.disconnect(), () => plot.dispose());

  syncTraits();
  syncStore("all");
  root.dataset.rendered = "true";
  return () => cleanups.forEach((c) => c());
}

export default { initialize, render };
