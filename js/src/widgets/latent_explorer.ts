// Front end of genwidgets.widgets.LatentExplorer: the map (WebGL scatter), the decoded output, sliders,
// class selector, interpolation and traversal grids.
//
// `initialize` (once per model in this page) keeps what Python sent (map, newest output, paths) in a store
// and paces probe requests; `render` (once per view) draws from that store and returns its cleanup.
// Arrays arrive as binary buffers (see genwidgets/widgets/wire.py).

import css from "./latent_explorer.css";
import { listen, type AnyModel, type Buffers, type LiveTraits } from "../lib/anywidget";
import { el, nonce } from "../lib/dom";
import { ExplorerPaths, type PathMsg, type TraversalMsg } from "../lib/explorer_paths";
import { ExplorerToolbar } from "../lib/explorer_toolbar";
import { LatentMapPlot } from "../lib/latent_map_plot";
import { LatentSliders } from "../lib/latent_sliders";
import { toTypedArray, type WireArray } from "../lib/ndarray";
import { drawScaled, scaleCanvas } from "../lib/output_canvas";
import { RequestPacer } from "../lib/request_pacer";
import { drawGrid } from "../lib/sample_view";
import { THEME_CSS } from "../lib/theme";
import { Listeners, WidgetStores } from "../lib/widget_store";
import { unpack } from "../lib/wire";

interface MapMsg { points: WireArray; labels: WireArray | null; thumbs: WireArray | null; data_points: WireArray | null }
interface OutputMsg {
  seq: number; ack: number; output: WireArray; z: WireArray; point: WireArray; base_index: number | null;
  picked?: boolean;
}

interface Store {
  map: MapMsg | null;
  output: OutputMsg | null;
  traversal: TraversalMsg | null;
  interpolation: PathMsg | null;
  pacer: RequestPacer;
  listeners: Listeners<[what: string]>;
}

/** The explorer's synced traits (genwidgets/widgets/latent_explorer.py). */
export interface ExplorerTraits extends LiveTraits {
  title: string;
  kind: "images" | "points";
  latent_dim: number;
  z: number[];
  label: number;
  class_names: string[];
  dims: number[];
  map_layout: string;
  fill: string;
  fill_note: string;
  map_info: MapInfo;
  slider_dims: number[];
  slider_scores: number[];
  slider_measure: string;
  span: number;
  traversal_steps: number;
  interp_steps: number;
  interp_mode: string;
  endpoints: { a?: string | null; b?: string | null; a_point?: [number, number]; b_point?: [number, number] };
  notice: string;
  live: boolean;
}

/** What the map shows (``LatentExplorer.map_info``). */
export interface MapInfo {
  n?: number;
  source?: string;
  description?: string;
  projection?: string;
  axis_titles?: string[];
  /** Layouts the map offers ("outputs", "codes") and the one it shows. */
  layouts?: string[];
  layout?: string;
  /** False when map points are lifted by blending codes, so the fill rule does not apply. */
  fill_applies?: boolean;
  /** What the colours are ("class" or "predicted class") and the names of their values. */
  label_kind?: string;
  label_names?: string[];
  step?: number | null;
}

const STORES = new WidgetStores<Store>((model) => ({
  map: null, output: null, traversal: null, interpolation: null, listeners: new Listeners<[what: string]>(),
  pacer: new RequestPacer((msg) => model.send(msg)),
}));

function initialize({ model }: { model: AnyModel<ExplorerTraits> }): () => void {
  const s = STORES.of(model);
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
    s.listeners.emit(op);
  };
  return STORES.connect(model, onMessage, { nonce: mine });
}

function render({ model, el: host }: { model: AnyModel<ExplorerTraits>; el: HTMLElement }): () => void {
  const s = STORES.of(model);
  const cleanups: (() => void)[] = [];
  const root = el("div", "gw-root gw-latent-explorer", host);
  el("style", "", root).textContent = THEME_CSS + css;

  const header = el("div", "gw-header", root);
  const title = el("span", "gw-title", header);
  const info = el("span", "gw-map-info", header);

  const notice = el("div", "gw-notice");
  const toolbar = new ExplorerToolbar(model, (text) => { notice.textContent = text; });
  root.appendChild(toolbar.el);

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

  const paths = new ExplorerPaths(model, root);
  root.append(paths.el, notice);

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
    const names = labelNames();
    const label = labels ? labels[index] : null;
    const kind = model.get("map_info")?.label_kind ?? "class";
    hoverCaption.textContent = `point ${index}` + (label !== null ? ` · ${kind} ${names[label] ?? label}` : "");
    root.dataset.hover = String(index);
    if (!thumbs) { hover.style.visibility = "hidden"; return; }
    const [, h, w, c] = thumbs.shape;
    const view = thumbs.buffer instanceof DataView ? thumbs.buffer : new DataView(thumbs.buffer);
    const one = new DataView(view.buffer, view.byteOffset + index * h * w * c, h * w * c);
    drawGrid(hover, { buffer: one, dtype: "uint8", shape: [1, h, w, c] }, 1);
    scaleCanvas(hover, Math.max(h, w), 64);
    hover.style.visibility = "visible";
  };

  const labelNames = (): string[] => {
    const given = model.get("map_info")?.label_names ?? [];
    return given.length ? given : (model.get("class_names") ?? []);
  };

  const syncTraits = () => {
    title.textContent = model.get("title") ?? "";
    const mi = model.get("map_info") ?? {};
    const step = mi.step === null || mi.step === undefined ? "" : ` · model at step ${mi.step}`;
    info.textContent = `${mi.description ?? ""} · ${mi.projection ?? ""}${step}`;
    fillNote.textContent = `probe: click or drag on the map; ${model.get("fill_note") ?? ""}`;
    notice.textContent = model.get("notice") ?? "";
    toolbar.sync();
    paths.sync();
    const ends = model.get("endpoints") ?? {};
    plot.setEndpoints(ends.a_point ?? null, ends.b_point ?? null);
    sliders.sync({ dims: model.get("slider_dims") ?? [], scores: model.get("slider_scores") ?? [],
      measure: model.get("slider_measure") ?? "", span: Number(model.get("span") ?? 3) }, model.get("z") ?? []);
  };

  const syncStore = (what: string) => {
    if ((what === "map" || what === "all") && s.map) {
      const mi = model.get("map_info") ?? {};
      void plot.setMap(s.map.points, s.map.labels, mi.axis_titles ?? [], labelNames(),
        mi.label_kind === "predicted class" ? "predicted" : "").then(() => {
        root.dataset.mapPoints = String(plot.length);
      });
    }
    if ((what === "output" || what === "all") && s.output) {
      const o = s.output;
      drawScaled(output, o.output, 1, s.map?.data_points ?? null, 168);
      const p = toTypedArray(o.point) as Float32Array;
      plot.setProbe([p[0], p[1]]);
      outputCaption.textContent = o.base_index === null ? "decoded current z"
        : o.picked ? `decoded code of map point ${o.base_index}`
          : `decoded current z (other components from map point ${o.base_index})`;
      root.dataset.outputs = String(s.pacer.stats.answered);
      root.dataset.outputSeq = String(o.seq);
    }
    if ((what === "traversal" || what === "all") && s.traversal) {
      paths.drawTraversal(s.traversal, s.map?.data_points ?? null);
    }
    if ((what === "interpolation" || what === "all") && s.interpolation) {
      paths.drawInterpolation(s.interpolation, s.map?.data_points ?? null);
    }
  };

  for (const name of ["title", "map_info", "fill_note", "notice", "dims", "fill", "class_names", "label",
    "map_layout", "interp_mode", "endpoints", "slider_dims", "slider_scores", "slider_measure", "span", "z", "latent_dim"]) {
    cleanups.push(listen(model, `change:${name}`, syncTraits));
  }
  cleanups.push(s.listeners.add(syncStore));
  cleanups.push(() => plot.dispose());

  syncTraits();
  syncStore("all");
  root.dataset.rendered = "true";
  return () => cleanups.forEach((c) => c());
}

export default { initialize, render };
