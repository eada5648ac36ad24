// Exponential moving average with bias correction (TensorBoard's smoothing), resumable for appends.

export interface EmaState {
  last: number;
  count: number;
}

export function emptyEma(): EmaState {
  return { last: 0, count: 0 };
}

/** Smooth `values[from..]` continuing from `state` (updated in place); NaN stays NaN and is skipped. */
export function ema(values: ArrayLike<number>, weight: number, state: EmaState, from = 0): number[] {
  const out: number[] = [];
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out.push(NaN);
      continue;
    }
    state.last = state.last * weight + (1 - weight) * v;
    state.count += 1;
    const debias = weight > 0 ? 1 - Math.pow(weight, state.count) : 1;
    out.push(state.last / debias);
  }
  return out;
}
