// The runs board's table logic, without the DOM: cell values, sorting, filtering, labels, and the
// metric-against-hyperparameter summary (genwidgets/widgets/runs_board.py sends the rows).

/** One run folder as Python summarises it (RunSummary.to_row). */
export interface BoardRow {
  id: string;
  model: string | null;
  data: string | null;
  config: Record<string, unknown>;
  steps: number | null;
  step: number;
  state: string;
  metrics: Record<string, number | null>;
  evaluation: Record<string, number | null>;
  evaluation_step: number | null;
  grids: number;
  checkpoints: number[];
  edits: [number, Record<string, unknown>][];
  error: string | null;
  views: string[];
}

export type SortKey = { column: string; dir: "asc" | "desc" };

/** A cell's value for sorting and showing: config fields, metrics, evaluations and the fixed columns. */
export function cellValue(row: BoardRow, column: string): unknown {
  if (column.startsWith("config:")) return row.config[column.slice(7)];
  if (column.startsWith("metric:")) {
    const name = column.slice(7);
    return row.metrics[name] ?? row.evaluation[name] ?? null;
  }
  return (row as unknown as Record<string, unknown>)[column];
}

/** A cell's text: integers with thousands separators, other numbers to 4 significant digits (0.001, not 0.001000). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : String(Number(value.toPrecision(4)));
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A cell with no value (a metric the run does not log, a field its family does not have). */
export const isBlank = (v: unknown): boolean => v === null || v === undefined || v === "";

/** Numbers by value, text in natural order ("beta=10" after "beta=4"), blanks last. */
export function compare(a: unknown, b: unknown): number {
  if (isBlank(a) || isBlank(b)) return isBlank(a) === isBlank(b) ? 0 : isBlank(a) ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

/** Order rows by `sort`; rows without a value in the column come last in either direction. */
export function sortRows(rows: BoardRow[], sort: SortKey): BoardRow[] {
  return rows.sort((a, b) => {
    const va = cellValue(a, sort.column), vb = cellValue(b, sort.column);
    if (isBlank(va) || isBlank(vb)) return compare(va, vb);
    return (sort.dir === "asc" ? 1 : -1) * compare(va, vb);
  });
}

/**
 * Short labels for metric names: an evaluated metric ("disentanglement.mig") by its last part ("mig"), or
 * its last two parts where the last alone is ambiguous ("factor_vae.score" beside "images.score").
 */
export function shortLabels(names: string[]): Map<string, string> {
  const last = (n: string, k: number) => n.split(".").slice(-k).join(".");
  const out = new Map<string, string>();
  for (const name of names) {
    const one = last(name, 1);
    out.set(name, names.filter((n) => last(n, 1) === one).length > 1 ? last(name, 2) : one);
  }
  return out;
}

/** The metric columns the table shows: the chosen metric first, then up to five logged and the evaluated ones. */
export function metricColumns(names: string[], chosen: string): string[] {
  const logged = names.filter((n) => !n.includes(".")).slice(0, 5);
  const evaluated = names.filter((n) => n.includes("."));
  return [...new Set([chosen, ...logged, ...evaluated].filter(Boolean))];
}

/** Whether a row matches a filter: every word must appear in its id, family, data, state, error or `field=value`. */
export function matchesFilter(row: BoardRow, query: string): boolean {
  if (!query) return true;
  const text = [row.id, row.model, row.data, row.state, row.error,
    ...Object.entries(row.config).map(([k, v]) => `${k}=${formatValue(v)}`)].join(" ").toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((word) => text.includes(word));
}

/** One value of the hyperparameter: its runs' mean and sample standard deviation (0 for a single run). */
export interface ParamGroup { x: unknown; mean: number; spread: number; n: number }

/**
 * A metric against a config field across runs: a point per run that has both, and per distinct value the
 * mean and spread over its runs (its seeds), in the value's order. `logX` when the values are positive
 * numbers spanning a factor of 8 or more over three or more values (beta = 1, 4, 16).
 */
export function paramSummary(rows: BoardRow[], param: string, metric: string): {
  px: unknown[]; py: number[]; text: string[]; groups: ParamGroup[]; numeric: boolean; logX: boolean;
} {
  const byValue = new Map<string, { x: unknown; ys: number[] }>();
  const px: unknown[] = [], py: number[] = [], text: string[] = [];
  for (const row of rows) {
    if (!row.config || !(param in row.config)) continue;
    const y = row.metrics[metric] ?? row.evaluation[metric];
    if (y === null || y === undefined) continue;
    const x = row.config[param];
    px.push(x); py.push(y); text.push(row.id);
    const key = JSON.stringify(x);
    if (!byValue.has(key)) byValue.set(key, { x, ys: [] });
    byValue.get(key)!.ys.push(y);
  }
  const groups = [...byValue.values()].sort((a, b) => compare(a.x, b.x)).map(({ x, ys }) => {
    const mean = ys.reduce((s, v) => s + v, 0) / ys.length;
    const spread = ys.length > 1 ? Math.sqrt(ys.reduce((s, v) => s + (v - mean) ** 2, 0) / (ys.length - 1)) : 0;
    return { x, mean, spread, n: ys.length };
  });
  const numeric = groups.every((g) => typeof g.x === "number");
  const positive = numeric && groups.every((g) => (g.x as number) > 0);
  const logX = positive && groups.length > 2 && (groups[groups.length - 1].x as number) / (groups[0].x as number) >= 8;
  return { px, py, text, groups, numeric, logX };
}
