// Human-readable progress: "step 120 / 2,000 · 38.2 steps/s · elapsed 0:03 · remaining 0:49".

export interface Progress {
  step: number;
  total: number | null;
  steps_per_sec: number;
  elapsed: number;
  remaining: number | null;
}

/** Seconds as m:ss or h:mm:ss. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function progressText(p: Progress | undefined): string {
  if (!p || p.step === undefined) return "";
  const total = p.total === null || p.total === undefined ? "∞" : p.total.toLocaleString("en-US");
  const parts = [
    `step ${p.step.toLocaleString("en-US")} / ${total}`,
    `${(p.steps_per_sec ?? 0).toFixed(1)} steps/s`,
    `elapsed ${duration(p.elapsed ?? 0)}`,
  ];
  if (p.remaining !== null && p.remaining !== undefined) parts.push(`remaining ${duration(p.remaining)}`);
  return parts.join(" · ");
}

/** Fraction done in [0, 1] (0 for unbounded runs). */
export function fraction(p: Progress | undefined): number {
  if (!p || !p.total) return 0;
  return Math.min(1, Math.max(0, p.step / p.total));
}

/** A hyperparameter change the panel marks: applied (live or scheduled) or planned by the run's schedule. */
export interface EditMark {
  step: number;
  values: Record<string, number | string | boolean>;
  planned: boolean;
}

/** "lr=0.0001, d_steps=2": numbers to three significant digits. */
export function editText(values: EditMark["values"]): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === "number" ? String(+v.toPrecision(3)) : String(v)}`)
    .join(", ");
}

/** "planned: lr=0.0001 at step 45,000; ..." for the marks still ahead ("" when none). */
export function planText(marks: EditMark[] | undefined): string {
  const ahead = (marks ?? []).filter((m) => m.planned);
  if (!ahead.length) return "";
  return "planned: " + ahead.map((m) => `${editText(m.values)} at step ${m.step.toLocaleString("en-US")}`).join("; ");
}
