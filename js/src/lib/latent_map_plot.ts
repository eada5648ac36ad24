// The latent explorer's map: a WebGL scatter (plotly.js scattergl) of projected codes, one trace per
// class, with our own pointer handling on top: press-and-drag probes (map point -> data coordinates),
// hover finds the nearest point (for thumbnails), and an HTML marker shows the current code.

import { toTypedArray, type WireArray } from "./ndarray";
import { PlotHost } from "./plot_host";

/** Class colours: plotly's ten-colour qualitative palette (the PNG fallback uses the same). */
export const PALETTE = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
  "#FF97FF", "#FECB52"];

const HOVER_RADIUS_PX = 10;

export interface MapHandlers {
  /** A probe at data coordinates (x, y); `final` when the pointer is released. */
  probe(x: number, y: number, final: boolean): void;
  /** The map point under the pointer (or null). */
  hover(index: number | null): void;
  /** A click (press and release without moving) on map point `index`: take that example's code exactly. */
  pick(index: number): void;
}

interface Axis { range: [number, number]; _offset: number; _length: number }

export class LatentMapPlot {
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private dragging = false;
  private pressedAt: [number, number] | null = null;
  private hoverFrame = 0;
  private readonly marker: HTMLDivElement;
  private readonly endMarks: HTMLDivElement[];
  private readonly cleanups: (() => void)[] = [];
  private probePoint: [number, number] | null = null;
  private endpoints: { a: [number, number] | null; b: [number, number] | null } = { a: null, b: null };
  private readonly host: PlotHost;
  private last: { traces: object[]; layout: Record<string, unknown> } | null = null;

  constructor(private readonly div: HTMLElement, private readonly handlers: MapHandlers) {
    this.host = new PlotHost(div, {
      redraw: () => { if (this.last) this.host.draw(this.last.traces, this.last.layout); },
      afterLayout: () => this.placeMarker(),
      config: { displayModeBar: false }, // the pointer probes the map: plotly's zoom and pan tools do not apply
    });
    this.marker = document.createElement("div");
    this.marker.className = "gw-probe-marker";
    this.marker.hidden = true;
    div.parentElement!.appendChild(this.marker);
    this.endMarks = (["A", "B"] as const).map((name) => {
      const mark = document.createElement("div");
      mark.className = `gw-end-marker gw-end-${name.toLowerCase()}`;
      mark.textContent = name;
      mark.hidden = true;
      div.parentElement!.appendChild(mark);
      return mark;
    });
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void) => {
      div.addEventListener(type, fn as EventListener, true);
      this.cleanups.push(() => div.removeEventListener(type, fn as EventListener, true));
    };
    on("pointerdown", (e) => this.onDown(e));
    on("pointermove", (e) => this.onMove(e));
    on("pointerup", (e) => this.onUp(e));
    on("pointercancel", () => { this.dragging = false; });
    on("pointerleave", () => { if (!this.dragging) this.handlers.hover(null); });
  }

  get length(): number { return this.xs.length; }

  /**
   * Draw the map: points (N, 2) float32, optional int32 labels (N,), axis titles, class names, and a
   * title for the legend (e.g. "predicted" when the colours are a classifier's verdicts).
   */
  async setMap(points: WireArray, labels: WireArray | null, axisTitles: string[], classNames: string[],
    legendTitle = ""): Promise<void> {
    const p = toTypedArray(points) as Float32Array;
    const n = points.shape[0];
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    for (let i = 0; i < n; i++) { this.xs[i] = p[2 * i]; this.ys[i] = p[2 * i + 1]; }
    const lab = labels ? (toTypedArray(labels) as Int32Array) : null;
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const k = lab ? lab[i] : 0;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(i);
    }
    const traces = [...groups.keys()].sort((a, b) => a - b).map((k) => {
      const idx = groups.get(k)!;
      return {
        type: "scattergl", mode: "markers", hoverinfo: "skip",
        name: lab ? (classNames[k] ?? String(k)) : "codes",
        x: Float32Array.from(idx, (i) => this.xs[i]), y: Float32Array.from(idx, (i) => this.ys[i]),
        marker: { size: n > 5000 ? 3 : 4, color: PALETTE[k % PALETTE.length], opacity: 0.7 },
      };
    });
    const [xr, yr] = [bounds(this.xs), bounds(this.ys)];
    const layout = {
      margin: { l: 48, r: 8, t: lab ? (legendTitle ? 48 : 30) : 8, b: 40 }, autosize: true, dragmode: false, hovermode: false,
      showlegend: !!lab,
      legend: { itemsizing: "constant", font: { size: 10 }, orientation: "h", x: 0, y: 1.01, yanchor: "bottom",
        title: { text: legendTitle, side: "top left" } },
      xaxis: { title: { text: axisTitles[0] ?? "" }, range: xr, zeroline: false },
      yaxis: { title: { text: axisTitles[1] ?? "" }, range: yr, zeroline: false },
      uirevision: axisTitles.join("|"),
    };
    this.last = { traces, layout };
    this.host.draw(traces, layout);
    await this.host.settled();
  }

  /** Mark the interpolation ends A and B on the map (null hides a mark). */
  setEndpoints(a: [number, number] | null, b: [number, number] | null): void {
    this.endpoints = { a, b };
    this.placeMarker();
  }

  /** Show the current code's map point (or hide the marker with null). */
  setProbe(point: [number, number] | null): void {
    this.probePoint = point;
    this.placeMarker();
  }

  dispose(): void {
    this.cleanups.forEach((c) => c());
    cancelAnimationFrame(this.hoverFrame);
    this.marker.remove();
    this.endMarks.forEach((m) => m.remove());
    this.host.dispose();
  }

  /** Data coordinates of a pointer event, or null outside the plot area. */
  toData(e: PointerEvent): [number, number] | null {
    const axes = this.axes();
    if (!axes) return null;
    const [xa, ya] = axes;
    const rect = this.div.getBoundingClientRect();
    const px = e.clientX - rect.left - xa._offset, py = e.clientY - rect.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    return [xa.range[0] + (px / xa._length) * (xa.range[1] - xa.range[0]),
      ya.range[1] - (py / ya._length) * (ya.range[1] - ya.range[0])];
  }

  private axes(): [Axis, Axis] | null {
    const full = (this.div as any)._fullLayout;
    const xa = full?.xaxis as Axis | undefined, ya = full?.yaxis as Axis | undefined;
    return xa && ya && xa._length > 0 && ya._length > 0 ? [xa, ya] : null;
  }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    const p = this.toData(e);
    if (!p) return;
    e.preventDefault();
    e.stopPropagation();
    this.dragging = true;
    this.pressedAt = [e.clientX, e.clientY];
    try {
      this.div.setPointerCapture?.(e.pointerId); // keeps the drag when the pointer leaves the map
    } catch {
      // a synthetic pointer (scripted drags) has no capture to set
    }
    this.handlers.probe(p[0], p[1], false);
  }

  private onMove(e: PointerEvent): void {
    if (this.dragging) {
      const p = this.toData(e);
      if (p) this.handlers.probe(p[0], p[1], false);
      return;
    }
    cancelAnimationFrame(this.hoverFrame);
    const { clientX, clientY } = e;
    this.hoverFrame = requestAnimationFrame(() => this.handlers.hover(this.nearestPixel(clientX, clientY)));
  }

  private onUp(e: PointerEvent): void {
    if (!this.dragging) return;
    this.dragging = false;
    if (this.div.hasPointerCapture?.(e.pointerId)) this.div.releasePointerCapture(e.pointerId);
    const pressed = this.pressedAt;
    this.pressedAt = null;
    const still = pressed && Math.hypot(e.clientX - pressed[0], e.clientY - pressed[1]) < 3;
    const index = still ? this.nearestPixel(e.clientX, e.clientY) : null;
    if (index !== null) {
      this.handlers.pick(index); // a click on a point selects that example, not the point's neighbourhood
      return;
    }
    const p = this.toData(e);
    if (p) this.handlers.probe(p[0], p[1], true);
  }

  /** Index of the map point within HOVER_RADIUS_PX of the pointer, nearest first, or null. */
  private nearestPixel(clientX: number, clientY: number): number | null {
    const axes = this.axes();
    if (!axes || !this.xs.length) return null;
    const [xa, ya] = axes;
    const rect = this.div.getBoundingClientRect();
    const sx = xa._length / (xa.range[1] - xa.range[0]), sy = ya._length / (ya.range[1] - ya.range[0]);
    const px = clientX - rect.left - xa._offset, py = clientY - rect.top - ya._offset;
    let best = -1, bestD = HOVER_RADIUS_PX * HOVER_RADIUS_PX;
    for (let i = 0; i < this.xs.length; i++) {
      const dx = (this.xs[i] - xa.range[0]) * sx - px, dy = (ya.range[1] - this.ys[i]) * sy - py;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best < 0 ? null : best;
  }

  private placeMarker(): void {
    this.place(this.marker, this.probePoint, true);
    this.place(this.endMarks[0], this.endpoints.a);
    this.place(this.endMarks[1], this.endpoints.b);
  }

  /**
   * Put an overlay element at data point `point` (hidden when null or before the first draw). Off the map,
   * a `pin`ned mark (the probe) stays at the map's edge in the point's direction, marked `data-off-map`;
   * another mark hides.
   */
  private place(mark: HTMLElement, point: [number, number] | null, pin = false): void {
    const axes = this.axes();
    if (!axes || !point) { mark.hidden = true; return; }
    const [xa, ya] = axes;
    const [x, y] = point;
    let left = xa._offset + ((x - xa.range[0]) / (xa.range[1] - xa.range[0])) * xa._length;
    let top = ya._offset + ((ya.range[1] - y) / (ya.range[1] - ya.range[0])) * ya._length;
    const inside = left >= xa._offset && left <= xa._offset + xa._length && top >= ya._offset
      && top <= ya._offset + ya._length;
    const finite = Number.isFinite(left) && Number.isFinite(top);
    mark.hidden = !(finite && (inside || pin));
    if (pin) {
      left = Math.min(Math.max(left, xa._offset), xa._offset + xa._length);
      top = Math.min(Math.max(top, ya._offset), ya._offset + ya._length);
      if (inside) delete mark.dataset.offMap;
      else mark.dataset.offMap = "true";
      mark.title = inside ? "" : `the current code's map point (${x.toFixed(2)}, ${y.toFixed(2)}) is off the map`;
    }
    mark.style.left = `${this.div.offsetLeft + left}px`;
    mark.style.top = `${this.div.offsetTop + top}px`;
  }
}

function bounds(v: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { if (Number.isFinite(x)) { lo = Math.min(lo, x); hi = Math.max(hi, x); } }
  if (!Number.isFinite(lo)) return [-1, 1];
  const pad = Math.max((hi - lo) * 0.05, 1e-3);
  return [lo - pad, hi + pad];
}
