// Front end of genwidgets.widgets.TrainingPanel: curves (plotly.js), sample canvas, progress, controls.
//
// `initialize` (once per model in this page) keeps the metric rows and newest samples in a store and
// asks Python for the full history once; `render` (once per view) draws from that store and
// returns its cleanup. Python then sends only what is new (see genwidgets/widgets/wire.py).

import css from "./training_panel.css";
import { listen, type AnyModel, type Buffers, type LiveTraits } from "../lib/anywidget";
import { buildButtons, buildHparams, type EditReply, type HparamTraits } from "../lib/controls";
import { CurvePlot } from "../lib/curves";
import { el, nonce } from "../lib/dom";
import { fraction, planText, progressText, type EditMark, type Progress } from "../lib/format";
import { MetricStore } from "../lib/metric_store";
import { toTypedArray, type WireArray } from "../lib/ndarray";
import { PointsPlot, type PlaneReference } from "../lib/points_plot";
import { drawGrid, drawPoints, drawRecon, type SampleFrame } from "../lib/sample_view";
import { THEME_CSS } from "../lib/theme";
import { Listeners, WidgetStores } from "../lib/widget_store";
import { APPEND, unpack } from "../lib/wire";

interface PanelData {
  store: MetricStore;
  samples: SampleFrame | null;
  reconInputs: WireArray | null;
  plane: PlaneReference | null;
  sampleListeners: Listeners;
  editReplies: Listeners<[EditReply]>;
}

/** The panel's synced traits (genwidgets/widgets/training_panel.py). */
export interface PanelTraits extends LiveTraits, HparamTraits {
  title: string;
  state: string;
  progress: Progress;
  device: string;
  precision: string;
  error: string;
  error_detail: string;
  notice: string;
  edits: EditMark[];
  metric_names: string[];
  sample_every: number;
  last_checkpoint: string;
  smoothing: number;
  log_scale: boolean;
  max_rate: number;
  max_points: number;
}

const STORES = new WidgetStores<PanelData>(() => (
  { store: new MetricStore(), samples: null, reconInputs: null, plane: null, sampleListeners: new Listeners(),
    editReplies: new Listeners<[EditReply]>() }));

function initialize({ model }: { model: AnyModel<PanelTraits> }): () => void {
  const data = STORES.of(model);
  const mine = nonce();
  const onMessage = (content: any, buffers: Buffers) => {
    if (content === APPEND) {
      data.store.append(toTypedArray({ buffer: buffers[0], dtype: "float32", shape: [] }) as Float32Array);
      return;
    }
    const msg = unpack(content, buffers);
    if (msg?.op === "reset") {
      if (msg.nonce !== mine) return; // another page's history: this one is already in sync
      data.store.reset(msg.columns, toTypedArray(msg.rows) as Float32Array, msg.max_points);
    } else if (msg?.op === "plane") {
      data.plane = msg as PlaneReference;
      data.sampleListeners.emit();
    } else if (msg?.op === "edit") {
      data.editReplies.emit(msg as EditReply);
    } else if (msg?.op === "columns") {
      data.store.setColumns(msg.columns);
    } else if (msg?.op === "samples") {
      if (msg.recon_inputs) data.reconInputs = msg.recon_inputs;
      data.samples = msg as SampleFrame;
      data.sampleListeners.emit();
    }
  };
  return STORES.connect(model, onMessage, { nonce: mine });
}

function render({ model, el: host }: { model: AnyModel<PanelTraits>; el: HTMLElement }): () => void {
  const data = STORES.of(model);
  const cleanups: (() => void)[] = [];
  const root = el("div", "gw-root gw-training-panel", host);
  el("style", "", root).textContent = THEME_CSS + css;

  const header = el("div", "gw-header", root);
  const title = el("span", "gw-title", header);
  const state = el("span", "gw-state", header);
  const progress = el("span", "gw-progress-text", header);
  const device = el("span", "gw-device", header);
  const bar = el("div", "", el("div", "gw-progressbar", root));
  const banner = el("div", "gw-banner", root);
  const bannerText = el("div", "gw-banner-text", banner);
  const details = el("details", "", banner);
  el("summary", "", details).textContent = "traceback";
  const trace = el("pre", "", details);

  const toolbar = el("div", "gw-toolbar", root);
  const buttons = buildButtons(model);
  toolbar.appendChild(buttons.el);
  const smoothLabel = el("label", "gw-smoothing", toolbar);
  smoothLabel.append("smoothing ");
  const smooth = el("input", "gw-smoothing-input", smoothLabel);
  Object.assign(smooth, { type: "range", min: "0", max: "0.99", step: "0.01" });
  const logLabel = el("label", "gw-log", toolbar);
  const logBox = el("input", "gw-log-input", logLabel);
  logBox.type = "checkbox";
  logLabel.append(" log scale");
  const hparams = buildHparams(model);
  toolbar.appendChild(hparams.el);
  const plan = el("div", "gw-plan", root);

  const body = el("div", "gw-body", root);
  const curves = el("div", "gw-curves", body);
  const sampleBox = el("div", "gw-samples", body);
  const placeholder = el("div", "gw-sample-placeholder", sampleBox);
  const canvas = el("canvas", "gw-sample-canvas", sampleBox);
  canvas.hidden = true;
  const pointsDiv = el("div", "gw-points-plot", sampleBox);
  pointsDiv.hidden = true;
  const points = new PointsPlot(pointsDiv);
  const caption = el("div", "gw-caption", sampleBox);
  const recon = el("canvas", "gw-recon-canvas", sampleBox);
  const reconCaption = el("div", "gw-caption gw-recon-caption", sampleBox);
  recon.hidden = reconCaption.hidden = true; // shown with the first reconstructions, for models that make them
  const notice = el("div", "gw-notice", root);

  const plot = new CurvePlot(curves, data.store, model.get("smoothing") ?? 0.6, !!model.get("log_scale"),
    model.get("metric_names") ?? []);

  const syncTraits = () => {
    const s = String(model.get("state") ?? "");
    root.dataset.state = s;
    state.dataset.state = s;
    state.textContent = s;
    title.textContent = model.get("title") ?? "";
    const p = model.get("progress") as Progress | undefined;
    progress.textContent = progressText(p);
    bar.style.width = `${(100 * fraction(p)).toFixed(1)}%`;
    device.textContent = [model.get("device"), model.get("precision")].filter(Boolean).join(" · ");
    const error = String(model.get("error") ?? "");
    banner.hidden = !error;
    bannerText.textContent = error;
    trace.textContent = model.get("error_detail") ?? "";
    notice.textContent = model.get("notice") ?? "";
    smooth.value = String(model.get("smoothing") ?? 0.6);
    logBox.checked = !!model.get("log_scale");
    buttons.sync(s);
    hparams.sync();
  };
  const syncEdits = () => {
    const marks = (model.get("edits") ?? []) as EditMark[];
    plan.textContent = planText(marks);
    plan.hidden = !plan.textContent;
    plot.setMarks(marks);
    root.dataset.edits = String(marks.filter((m) => !m.planned).length);
  };
  const syncSamples = () => {
    const frame = data.samples;
    const every = Number(model.get("sample_every") ?? 0);
    sampleBox.hidden = !frame && every <= 0;  // a run that never samples shows no empty box
    placeholder.textContent = every > 0 ? `samples from fixed noise appear every ${every} steps` : "";
    placeholder.hidden = !!frame;
    if (!frame) return;
    const plane = frame.points && data.plane ? data.plane : null;
    if (plane) points.draw(plane, frame.points!, frame.step);
    pointsDiv.hidden = !plane;
    const drawn = !!plane || (frame.images ? drawGrid(canvas, frame.images, frame.cols)
      : frame.points ? drawPoints(canvas, frame.points) : false);
    canvas.hidden = !drawn || !!plane;
    caption.textContent = !drawn ? "" : plane
      ? `generated points (fixed noise) over real data, step ${frame.step} (every ${model.get("sample_every")} steps)`
      : `samples from fixed noise at step ${frame.step} (every ${model.get("sample_every")} steps)`;
    const haveRecon = !!(frame.recon && data.reconInputs);
    recon.hidden = reconCaption.hidden = !haveRecon;
    if (haveRecon) {
      drawRecon(recon, data.reconInputs!, frame.recon!);
      reconCaption.textContent = "inputs (top) and reconstructions (bottom)";
    }
    root.dataset.sampleStep = String(frame.step);
  };
  const onStore = (change: Parameters<typeof plot.update>[0]) => {
    plot.update(change);
    root.dataset.points = String(data.store.length);
  };

  for (const name of ["state", "title", "progress", "device", "precision", "error", "error_detail", "notice",
    "smoothing", "log_scale", "hparams", "hparam_specs"]) {
    cleanups.push(listen(model, `change:${name}`, syncTraits));
  }
  cleanups.push(listen(model, "change:edits", syncEdits));
  cleanups.push(listen(model, "change:smoothing", () => plot.setSmoothing(model.get("smoothing"))));
  cleanups.push(listen(model, "change:log_scale", () => plot.setLogScale(!!model.get("log_scale"))));
  smooth.addEventListener("input", () => {
    model.set("smoothing", parseFloat(smooth.value));
    model.save_changes();
  });
  logBox.addEventListener("change", () => {
    model.set("log_scale", logBox.checked);
    model.save_changes();
  });
  cleanups.push(data.store.subscribe(onStore));
  cleanups.push(data.sampleListeners.add(syncSamples));
  cleanups.push(data.editReplies.add(hparams.onReply));
  cleanups.push(() => plot.dispose(), () => points.dispose());

  syncTraits();
  syncSamples();
  onStore({ kind: "reset" });
  syncEdits();
  root.dataset.rendered = "true";
  return () => cleanups.forEach((c) => c());
}

export default { initialize, render };
