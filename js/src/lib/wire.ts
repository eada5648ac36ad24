// Messages from Python put their arrays back together: {"$b": i, dtype, shape} -> WireArray over buffers[i].
// See genwidgets/widgets/wire.py for the protocol; metric appends are the bare opcode APPEND plus one buffer.

import type { Buffers } from "./anywidget";
import type { DType, WireArray } from "./ndarray";

/** Content of a metric-append message: its one buffer holds float32 rows [step, m1, ..., mk]. */
export const APPEND = 0;

const BUFFER_KEY = "$b";

/** Replace buffer placeholders in `content` by WireArrays (no copies). */
export function unpack(content: unknown, buffers: Buffers): any {
  if (Array.isArray(content)) return content.map((v) => unpack(v, buffers));
  if (content && typeof content === "object") {
    const obj = content as Record<string, unknown>;
    if (BUFFER_KEY in obj && "dtype" in obj && "shape" in obj) {
      return { buffer: buffers[obj[BUFFER_KEY] as number], dtype: obj.dtype as DType, shape: obj.shape as number[] };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = unpack(v, buffers);
    return out;
  }
  return content;
}

export type { WireArray };
