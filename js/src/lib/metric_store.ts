// The front end's copy of a panel's metric rows: the same bounded, thinned rows Python keeps
// (genwidgets/widgets/series.py), shared by every view of one model in this page.

/** Every other item from the first, plus the last if that skipped it (genwidgets/widgets/series.py: halve). */
export function halve(items: number[]): number[] {
  const kept = items.filter((_, i) => i % 2 === 0);
  if (items.length % 2 === 0 && items.length) kept.push(items[items.length - 1]);
  return kept;
}

export type StoreChange = { kind: "reset" } | { kind: "append"; from: number };

export class MetricStore {
  columns: string[] = [];
  steps: number[] = [];
  series: number[][] = [];
  maxPoints = 10000;
  /** True once Python answered this front end's hello; appends before that are already in the reset. */
  synced = false;
  private listeners = new Set<(change: StoreChange) => void>();

  get length(): number {
    return this.steps.length;
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange): void {
    for (const l of this.listeners) l(change);
  }

  /** Replace everything with the full history (a float32 matrix of rows [step, m1..mk]). */
  reset(columns: string[], rows: Float32Array, maxPoints: number): void {
    this.columns = [...columns];
    this.maxPoints = maxPoints;
    this.steps = [];
    this.series = columns.map(() => []);
    const width = 1 + columns.length;
    for (let r = 0; r * width < rows.length; r++) {
      this.steps.push(rows[r * width]);
      for (let j = 0; j < columns.length; j++) this.series[j].push(rows[r * width + 1 + j]);
    }
    this.synced = true;
    this.emit({ kind: "reset" });
  }

  /** New metric names (always a superset, in order); earlier rows read NaN for the new ones. */
  setColumns(columns: string[]): void {
    if (!this.synced) return;
    for (let j = this.columns.length; j < columns.length; j++) this.series.push(this.steps.map(() => NaN));
    this.columns = [...columns];
    this.emit({ kind: "reset" });
  }

  /** Append rows; halve (keeping the first and newest) at maxPoints, exactly as Python's ThinnedSeries. */
  append(rows: Float32Array): void {
    if (!this.synced) return;
    const width = 1 + this.columns.length;
    const from = this.steps.length;
    let thinned = false;
    for (let r = 0; r * width < rows.length; r++) {
      this.steps.push(rows[r * width]);
      for (let j = 0; j < this.columns.length; j++) this.series[j].push(rows[r * width + 1 + j]);
      if (this.steps.length >= this.maxPoints) {
        this.steps = halve(this.steps);
        this.series = this.series.map(halve);
        thinned = true;
      }
    }
    this.emit(thinned ? { kind: "reset" } : { kind: "append", from });
  }
}
