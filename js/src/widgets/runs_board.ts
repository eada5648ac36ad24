// Front end of genwidgets.widgets.RunsBoard: many run folders — table, curve overlay, grids through time,
// a metric against a hyperparameter, and buttons that open a run in the other widgets.
//
// The table's rows come as messages, only those that changed (sorted and filtered here); curves and grids come
// as messages with binary
// buffers (float64 steps and values, the grids' PNG bytes: see genwidgets/widgets/wire.py).

import css from "./runs_board.css";
import { listen, setTrait, type AnyModel, type Buffers, type LiveTraits } from "../lib/anywidget";
import { el } from "../lib/dom";
import { toTypedArray, type WireArray } from "../lib/ndarray";
import { PlotHost } from "../lib/plot_host";
import { THEME_CSS } from "../lib/theme";
import { Listeners, WidgetStores } from "../lib/widget_store";
import { unpack } from "../lib/wire";
import {
  cellValue, formatValue, matchesFilter, metricColumns, paramSummary, shortLabels, sortRows, type BoardRow, type SortKey,
} from "../lib/board_rows";

export type { BoardRow };

/** The board's synced traits (genwidgets/widgets/runs_board.py); the rows come as messages (only those that change). */
export interface BoardTraits extends LiveTraits {
  title: string;
  varied: string[];
  metric_names: string[];
  selected: string[];
  metric: string;
  grid_steps: number[];
  grid_step: number;
  param: string;
  param_metric: string;
  interval: number;
  refreshed: number;
  message: string;
}

interface Curve { id: string; steps?: WireArray; values?: WireArray; edits: [number, Record<string, unknown>][]; error?: string }
interface Grid { id: string; step?: number; png?: WireArray; error?: string }

interface WidgetData {
  rows: Map<string, BoardRow>;
  curves: { metric: string; curves: Curve[] } | null;
  grids: { step: number; grids: Grid[] } | null;
  listeners: Listeners<["rows" | "curves" | "grids"]>;
}

const STORES = new WidgetStores<WidgetData>(() => ({ rows: new Map(), curves: null, grids: null,
  listeners: new Listeners() }));

function initialize({ model }: { model: AnyModel<BoardTraits> }): () => void {
  const data = STORES.of(model);
  return STORES.connect(model, (content: any, buffers: Buffers) => {
    const msg = unpack(content, buffers);
    if (msg?.op === "rows") {
      if (msg.reset) data.rows.clear();
      for (const id of msg.removed ?? []) data.rows.delete(id);
      for (const row of msg.rows ?? []) data.rows.set(row.id, row);
      data.listeners.emit("rows");
    } else if (msg?.op === "curves") {
      data.curves = msg;
      data.listeners.emit("curves");
    } else if (msg?.op === "grids") {
      data.grids = msg;
      data.listeners.emit("grids");
    }
  }, {});
}

const COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
  "#FF97FF", "#FECB52"];
const VIEW_TEXT: Record<string, string> = { panel: "panel", explorer: "explorer", heatmap: "heatmap" };

function render({ model, el: host }: { model: AnyModel<BoardTraits>; el: HTMLElement }): () => void {
  const data = STORES.of(model);
  const cleanups: (() => void)[] = [];
  const root = el("div", "gw-root gw-board", host);
  el("style", "", root).textContent = THEME_CSS + css;

  const header = el("div", "gw-board-header", root);
  const title = el("span", "gw-title", header);
  const status = el("span", "gw-board-status", header);
  const toolbar = el("div", "gw-board-toolbar", root);
  const filter = el("input", "gw-board-filter", toolbar);
  Object.assign(filter, { type: "search", placeholder: "filter runs (e.g. beta=4, running, vae)" });
  const metricLabel = el("label", "gw-board-metric", toolbar);
  metricLabel.append("curves of ");
  const metricSelect = el("select", "gw-board-metric-select", metricLabel);
  const tableBox = el("div", "gw-board-table-box", root);
  const table = el("table", "gw-board-table", tableBox);
  const thead = el("thead", "", table);
  const tbody = el("tbody", "", table);

  const curvesSection = el("div", "gw-board-section gw-board-curves", root);
  const curvesTitle = el("div", "gw-board-section-title", curvesSection);
  const curvesDiv = el("div", "gw-board-plot gw-board-curves-plot", curvesSection);
  const gridsSection = el("div", "gw-board-section gw-board-grids-section", root);
  const gridsTitle = el("div", "gw-board-section-title", gridsSection);
  gridsTitle.append("samples from fixed noise");
  const slider = el("label", "gw-board-slider", gridsTitle);
  const stepInput = el("input", "gw-board-step", slider);
  stepInput.type = "range";
  const stepText = el("span", "gw-board-step-text", slider);
  const grids = el("div", "gw-board-grids", gridsSection);
  const paramSection = el("div", "gw-board-section gw-board-param", root);
  const paramTitle = el("div", "gw-board-section-title", paramSection);
  const paramMetric = el("select", "gw-board-param-metric", paramTitle);
  paramTitle.append(" against ");
  const paramSelect = el("select", "gw-board-param-select", paramTitle);
  const paramDiv = el("div", "gw-board-plot gw-board-param-plot", paramSection);
  const message = el("div", "gw-board-message", root);

  let sort: SortKey = { column: "id", dir: "asc" };
  const allRows = (): BoardRow[] => [...data.rows.values()];
  const colourOf = (id: string): string => {
    const index = (model.get("selected") ?? []).indexOf(id);
    return index < 0 ? "" : COLOURS[index % COLOURS.length];
  };
  const curvesPlot = new PlotHost(curvesDiv, { redraw: () => drawCurves() });
  const paramPlot = new PlotHost(paramDiv, { redraw: () => drawParam() });

  const columns = (): { key: string; label: string; title?: string; varied?: boolean; num?: boolean }[] => {
    const varied = model.get("varied") ?? [];
    const names = model.get("metric_names") ?? [];
    const labels = shortLabels(names);
    return [
      { key: "id", label: "run" },
      { key: "model", label: "family" },
      { key: "data", label: "data" },
      ...varied.map((v) => ({ key: `config:${v}`, label: v, varied: true })),
      { key: "state", label: "state" },
      { key: "step", label: "step", num: true },
      ...metricColumns(names, model.get("metric")).map((m) => ({ key: `metric:${m}`, label: labels.get(m) ?? m,
        title: m, num: true })),
    ];
  };

  const drawTable = () => {
    const cols = columns();
    const selected = new Set(model.get("selected") ?? []);
    thead.replaceChildren();
    const headRow = el("tr", "", thead);
    el("th", "gw-board-select-all", headRow).title = "shown in the plots and grids";
    for (const col of cols) {
      const th = el("th", col.varied ? "gw-varied" : "", headRow);
      th.textContent = col.label;
      th.dataset.column = col.key;
      th.title = col.varied ? `${col.label}: differs between runs` : `${col.title ?? col.label} (click to sort)`;
      if (sort.column === col.key) th.dataset.sort = sort.dir;
      th.addEventListener("click", () => {
        sort = { column: col.key, dir: sort.column === col.key && sort.dir === "asc" ? "desc" : "asc" };
        drawTable();
      });
    }
    el("th", "", headRow).textContent = "open in";
    const query = filter.value.trim();
    const rows = allRows().filter((r) => matchesFilter(r, query));
    sortRows(rows, sort);
    tbody.replaceChildren();
    for (const row of rows) {
      const tr = el("tr", row.error ? "gw-row-error" : "", tbody);
      tr.dataset.id = row.id;
      tr.dataset.selected = String(selected.has(row.id));
      const colour = colourOf(row.id);
      if (colour) tr.style.setProperty("--gw-swatch", colour);
      const pick = el("input", "gw-board-pick", el("td", "", tr));
      pick.type = "checkbox";
      pick.checked = selected.has(row.id);
      pick.disabled = row.state === "foreign";
      pick.addEventListener("change", () => {
        const now = (model.get("selected") ?? []).filter((id) => id !== row.id);
        setTrait(model, "selected", pick.checked ? [...now, row.id] : now);
      });
      if (row.state === "foreign" || (row.state === "error" && !row.model)) {
        const td = el("td", "", tr);
        td.textContent = row.id;
        const state = el("td", "", tr);
        el("span", "gw-board-state", state).dataset.state = row.state;
        (state.firstChild as HTMLElement).textContent = row.state;
        const err = el("td", "gw-error-text", tr);
        err.colSpan = cols.length - 1;
        err.textContent = row.error ?? "";
        continue;
      }
      for (const col of cols) {
        const td = el("td", `${col.varied ? "gw-varied" : ""} ${col.num ? "gw-num" : ""}`, tr);
        if (col.key === "state") {
          const badge = el("span", "gw-board-state", td);
          badge.dataset.state = row.state;
          badge.textContent = row.state;
          if (row.error) td.title = row.error;
        } else if (col.key === "step") {
          td.textContent = row.steps ? `${formatValue(row.step)} / ${formatValue(row.steps)}` : formatValue(row.step);
        } else {
          td.textContent = formatValue(cellValue(row, col.key));
        }
      }
      const views = el("span", "gw-board-views", el("td", "", tr));
      for (const view of row.views ?? []) {
        const button = el("button", `gw-btn gw-board-open gw-board-open-${view}`, views);
        button.textContent = VIEW_TEXT[view] ?? view;
        button.title = `open ${row.id} in the ${view} (below the board)`;
        button.addEventListener("click", () => model.send({ op: "open", id: row.id, view }));
      }
      if (row.error) tr.title = row.error;
    }
    if (!rows.length) {
      const td = el("td", "gw-board-empty", el("tr", "", tbody));
      td.colSpan = cols.length + 2;
      td.textContent = allRows().length ? "no run matches the filter" : "no run folders yet";
    }
    root.dataset.rows = String(rows.length);
  };

  const syncHeader = () => {
    title.textContent = model.get("title") ?? "";
    const rows = allRows();
    const live = rows.filter((r) => r.state === "running").length;
    const errors = rows.filter((r) => r.error).length;
    status.textContent = [`${rows.length} run folder${rows.length === 1 ? "" : "s"}`,
      live ? `${live} training` : "", errors ? `${errors} with errors` : "",
      `polled every ${model.get("interval")} s`].filter(Boolean).join(" · ");
    const names = model.get("metric_names") ?? [];
    if (metricSelect.options.length !== names.length || Array.from(metricSelect.options).some((o, i) => o.value !== names[i])) {
      metricSelect.replaceChildren();
      paramMetric.replaceChildren();
      for (const n of names) {
        Object.assign(el("option", "", metricSelect), { value: n, text: n });
        Object.assign(el("option", "", paramMetric), { value: n, text: n });
      }
    }
    metricSelect.value = model.get("metric") ?? "";
    paramMetric.value = model.get("param_metric") ?? "";
    const varied = model.get("varied") ?? [];
    if (paramSelect.options.length !== varied.length || Array.from(paramSelect.options).some((o, i) => o.value !== varied[i])) {
      paramSelect.replaceChildren();
      for (const v of varied) Object.assign(el("option", "", paramSelect), { value: v, text: v });
    }
    paramSelect.value = model.get("param") ?? "";
    paramSection.hidden = !varied.length;
    message.textContent = model.get("message") ?? "";
    message.hidden = !message.textContent;
    const steps = model.get("grid_steps") ?? [];
    stepInput.min = "0";
    stepInput.max = String(Math.max(0, steps.length - 1));
    const wanted = model.get("grid_step");
    const index = wanted < 0 ? steps.length - 1 : steps.findIndex((s) => s >= wanted);
    stepInput.value = String(index < 0 ? steps.length - 1 : index);
    stepInput.disabled = steps.length < 2;
    stepText.textContent = steps.length ? (wanted < 0 ? `newest (step ${steps[steps.length - 1]})` : `step ${wanted}`) : "";
    root.dataset.refreshed = String(model.get("refreshed"));
  };

  const drawCurves = () => {
    const got = data.curves;
    const metric = model.get("metric");
    curvesTitle.textContent = metric ? `${metric} against step` : "no metric logged yet";
    const traces: object[] = [];
    const shapes: object[] = [];
    const notes: string[] = [];
    for (const curve of got?.curves ?? []) {
      const colour = colourOf(curve.id) || "#888";
      if (curve.error || !curve.steps || !curve.values) {
        notes.push(`${curve.id}: ${curve.error}`);
        continue;
      }
      const x = Array.from(toTypedArray(curve.steps));
      const y = Array.from(toTypedArray(curve.values), (v) => (Number.isFinite(v) ? v : null));
      traces.push({ type: "scattergl", mode: "lines", name: curve.id, x, y, line: { color: colour, width: 1.5 },
        hovertemplate: `${curve.id}<br>step %{x}: %{y:.4g}<extra></extra>` });
      for (const [step] of curve.edits ?? []) {
        shapes.push({ type: "line", xref: "x", yref: "paper", x0: step, x1: step, y0: 0, y1: 1,
          line: { color: colour, width: 1, dash: "dot" } });
      }
    }
    if (notes.length) curvesTitle.append(el("span", "gw-board-status", undefined), ` (${notes.join("; ")})`);
    curvesPlot.draw(traces, {
      height: 280, margin: { l: 52, r: 12, t: 8, b: traces.length > 1 ? 64 : 28 }, xaxis: { zeroline: false },
      yaxis: { zeroline: false }, showlegend: traces.length > 1,
      legend: { orientation: "h", x: 0, y: -0.16, yanchor: "top" },
      shapes, uirevision: metric,
      annotations: traces.length ? [] : [{ text: (model.get("selected") ?? []).length ? "nothing logged yet"
        : "tick runs in the table to overlay their curves", xref: "paper", yref: "paper", x: 0.5, y: 0.5,
        showarrow: false }],
    });
    curvesPlot.settled().then(() => {
      root.dataset.curves = (got?.curves ?? []).filter((c) => c.steps).map((c) => `${c.id}:${c.steps!.shape[0]}`).join("|");
    });
  };

  const drawGrids = () => {
    const got = data.grids;
    grids.replaceChildren();
    for (const grid of got?.grids ?? []) {
      const figure = el("figure", "gw-board-grid", grids);
      figure.dataset.id = grid.id;
      const colour = colourOf(grid.id);
      if (colour) figure.style.setProperty("--gw-swatch", colour);
      const caption = el("figcaption", "", figure);
      if (grid.png) {
        const img = el("img", "", figure);
        const bytes = toTypedArray(grid.png) as Uint8Array;
        const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "image/png" }));
        img.onload = () => URL.revokeObjectURL(url);
        img.src = url;
        img.alt = `samples of ${grid.id} at step ${grid.step}`;
        figure.dataset.step = String(grid.step);
        caption.textContent = `${grid.id} · step ${grid.step}`;
        figure.prepend(img);
      } else {
        caption.textContent = `${grid.id}: ${grid.error ?? ""}`;
      }
    }
    gridsSection.hidden = !(got?.grids ?? []).length;
    root.dataset.gridSteps = (got?.grids ?? []).map((g) => `${g.id}:${g.step ?? "-"}`).join("|");
  };

  const drawParam = () => {
    const param = model.get("param"), metric = model.get("param_metric");
    if (!param || !metric) return;
    const { px, py, text, groups, numeric, logX } = paramSummary(allRows(), param, metric);
    paramPlot.draw([
      { type: "scatter", mode: "markers", name: "one run", x: px, y: py, text,
        marker: { size: 8, opacity: 0.85, color: COLOURS[0] },
        hovertemplate: `%{text}<br>${param}=%{x}: %{y:.4g}<extra></extra>` },
      { type: "scatter", mode: "lines+markers", name: "mean ± sd over seeds", x: groups.map((g) => g.x),
        y: groups.map((g) => g.mean),
        error_y: { type: "data", array: groups.map((g) => g.spread), visible: true, color: COLOURS[1] },
        line: { width: 2, color: COLOURS[1] }, marker: { color: COLOURS[1] } },
    ], {
      height: 240, margin: { l: 64, r: 12, t: 8, b: 40 }, showlegend: true, legend: { orientation: "h", y: -0.3 },
      xaxis: { title: { text: param }, type: numeric ? (logX ? "log" : "linear") : "category", zeroline: false },
      yaxis: { title: { text: shortLabels(model.get("metric_names") ?? []).get(metric) ?? metric }, zeroline: false },
      annotations: px.length ? [] : [{ text: `no run has ${metric} yet`, xref: "paper", yref: "paper", x: 0.5,
        y: 0.5, showarrow: false }],
    });
    root.dataset.paramPoints = String(px.length);
  };

  filter.addEventListener("input", drawTable);
  metricSelect.addEventListener("change", () => setTrait(model, "metric", metricSelect.value));
  paramMetric.addEventListener("change", () => setTrait(model, "param_metric", paramMetric.value));
  paramSelect.addEventListener("change", () => setTrait(model, "param", paramSelect.value));
  stepInput.addEventListener("input", () => {
    const steps = model.get("grid_steps") ?? [];
    const index = Number(stepInput.value);
    setTrait(model, "grid_step", index >= steps.length - 1 ? -1 : steps[index]);
  });

  for (const name of ["varied", "metric_names", "metric", "selected"]) {
    cleanups.push(listen(model, `change:${name}`, drawTable));
  }
  for (const name of ["title", "metric_names", "metric", "varied", "param", "param_metric", "message",
    "grid_steps", "grid_step", "interval", "refreshed"]) {
    cleanups.push(listen(model, `change:${name}`, syncHeader));
  }
  for (const name of ["param", "param_metric"]) cleanups.push(listen(model, `change:${name}`, drawParam));
  cleanups.push(listen(model, "change:selected", () => { drawCurves(); drawGrids(); }));
  cleanups.push(data.listeners.add((what) => {
    if (what === "rows") {
      syncHeader();
      drawTable();
      drawParam();
    } else if (what === "curves") drawCurves();
    else drawGrids();
  }));
  cleanups.push(() => curvesPlot.dispose(), () => paramPlot.dispose());

  syncHeader();
  drawTable();
  drawCurves();
  drawGrids();
  drawParam();
  root.dataset.rendered = "true";
  return () => cleanups.forEach((c) => c());
}

export default { initialize, render };
