// Colours that follow the host's theme: JupyterLab and Notebook 7 (--jp-* variables, also under Voila),
// VS Code (--vscode-* variables), else the browser's light or dark preference.
//
// THEME_CSS defines the --gw-* variables every widget's stylesheet uses; plotTheme() reads their
// computed values for plotly.js (which draws in SVG and takes colours, not variables); watchTheme()
// calls back when the host switches theme, so plots relayout live.

/** The --gw-* variables, on every widget root (`.gw-root`). */
export const THEME_CSS = `
.gw-root {
  --gw-fg: var(--jp-ui-font-color1, var(--vscode-editor-foreground, #1f1f1f));
  --gw-fg-muted: var(--jp-ui-font-color2, var(--vscode-descriptionForeground, #5f5f5f));
  --gw-bg: var(--jp-layout-color0, var(--vscode-editor-background, #ffffff));
  --gw-bg-raised: var(--jp-layout-color2, var(--vscode-editorWidget-background, #eeeeee));
  --gw-border: var(--jp-border-color2, var(--vscode-panel-border, #d0d0d0));
  --gw-grid: var(--jp-border-color3, var(--vscode-editorIndentGuide-background, #e8e8e8));
  --gw-accent: var(--jp-brand-color1, var(--vscode-focusBorder, #1976d2));
  --gw-error: var(--jp-error-color1, var(--vscode-errorForeground, #c62828));
  --gw-warn: var(--jp-warn-color1, var(--vscode-editorWarning-foreground, #a35f00));
  --gw-ok: var(--jp-success-color1, var(--vscode-testing-iconPassed, #2e7d32));
  --gw-font: var(--jp-ui-font-family, var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", sans-serif));
  color: var(--gw-fg);
  font-family: var(--gw-font);
  box-sizing: border-box;
  max-width: 100%;
  min-width: 0;
}
.gw-root *, .gw-root *::before, .gw-root *::after { box-sizing: border-box; }
.gw-root [hidden] { display: none !important; }
@media (prefers-color-scheme: dark) {
  body:not([data-jp-theme-light]):not(.vscode-light) .gw-root {
    --gw-fg: var(--vscode-editor-foreground, #e6e6e6);
    --gw-fg-muted: var(--vscode-descriptionForeground, #a8a8a8);
    --gw-bg: var(--vscode-editor-background, #1e1e1e);
    --gw-bg-raised: var(--vscode-editorWidget-background, #2d2d2d);
    --gw-border: var(--vscode-panel-border, #4a4a4a);
    --gw-grid: var(--vscode-editorIndentGuide-background, #3a3a3a);
  }
}
`;

/** The theme's colours as plotly.js needs them. */
export interface PlotColours {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  font: string;
}

function read(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

/** The computed theme colours at `root` (a `.gw-root` element, attached to the page). */
export function themeColours(root: HTMLElement): PlotColours {
  const style = getComputedStyle(root);
  return {
    fg: read(style, "--gw-fg", "#1f1f1f"),
    muted: read(style, "--gw-fg-muted", "#5f5f5f"),
    grid: read(style, "--gw-grid", "#e8e8e8"),
    bg: read(style, "--gw-bg", "#ffffff"),
    font: read(style, "--gw-font", "sans-serif"),
  };
}

/** Axis styling for the theme: ticks and titles in the text colour, grid lines faint. */
export function axisTheme(c: PlotColours): Record<string, unknown> {
  return {
    color: c.muted, gridcolor: c.grid, linecolor: c.grid, zerolinecolor: c.grid, tickcolor: c.grid,
    title: { font: { color: c.muted } }, tickfont: { color: c.muted },
  };
}

/**
 * Layout keys that theme a plot: transparent backgrounds (the widget's shows through), text colours,
 * and the axes named in `axes` (e.g. ["xaxis", "yaxis"]), as a relayout update or a layout fragment.
 */
export function plotTheme(root: HTMLElement, axes: string[] = ["xaxis", "yaxis"]): Record<string, unknown> {
  const c = themeColours(root);
  const layout: Record<string, unknown> = {
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: c.font, size: 11, color: c.fg },
    legend: { font: { color: c.fg }, bgcolor: "rgba(0,0,0,0)" },
    hoverlabel: { bgcolor: c.bg, bordercolor: c.grid, font: { color: c.fg } },
    modebar: { bgcolor: "rgba(0,0,0,0)", color: c.muted, activecolor: c.fg },
  };
  for (const axis of axes) layout[axis] = axisTheme(c);
  return layout;
}

/** Merge theme keys into a layout (nested one level: axis and font objects combine). */
export function withTheme<T extends Record<string, unknown>>(layout: T, theme: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...layout };
  for (const [key, value] of Object.entries(theme)) {
    const mine = out[key];
    out[key] = mine && typeof mine === "object" && value && typeof value === "object"
      ? { ...(value as object), ...(mine as object) } : mine ?? value;
  }
  for (const key of ["font", "legend", "hoverlabel", "modebar"]) {  // the theme's colours win for text
    const t = theme[key] as Record<string, unknown> | undefined;
    const m = layout[key] as Record<string, unknown> | undefined;
    if (t && m) out[key] = { ...m, ...t, font: { ...(m.font as object), ...(t.font as object) } };
  }
  return out as T;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let observer: MutationObserver | null = null;
let lastKey = "";

function themeKey(): string {
  const probe = document.querySelector(".gw-root") as HTMLElement | null;
  return probe ? JSON.stringify(themeColours(probe)) : "";
}

function check(): void {
  const key = themeKey();
  if (!key || key === lastKey) return;
  const first = lastKey === "";
  lastKey = key;
  if (!first) for (const l of [...listeners]) l(); // plots drawn so far took the colours of their draw
}

function scheduleChecks(): void {
  // A host swaps its stylesheet and flips body attributes in either order: look again as it settles.
  requestAnimationFrame(check);
  for (const ms of [150, 600, 1500]) setTimeout(check, ms);
}

/** Call `listener` whenever the host's theme changes; returns the function that stops it. */
export function watchTheme(listener: Listener): () => void {
  listeners.add(listener);
  if (observer === null) {
    lastKey = themeKey();
    observer = new MutationObserver(scheduleChecks);
    const attributes = { attributes: true, attributeFilter: ["class", "style", "data-jp-theme-name", "data-jp-theme-light", "data-vscode-theme-kind"] };
    observer.observe(document.body, attributes);
    observer.observe(document.documentElement, attributes);
    observer.observe(document.head, { childList: true });
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", scheduleChecks);
  }
  return () => {
    listeners.delete(listener);
  };
}

/** A nested layout fragment as plotly relayout keys ("xaxis.gridcolor": ...), which change only those keys. */
export function relayoutKeys(fragment: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fragment)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, relayoutKeys(value as Record<string, unknown>, path));
    else out[path] = value;
  }
  return out;
}
