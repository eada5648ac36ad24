// Arrays travel from Python as {buffer, dtype, shape} (jupyter-scatter's serializer), never as JSON lists.

export type DType = "uint8" | "int32" | "float32" | "float64";

export interface WireArray {
  buffer: DataView | ArrayBuffer;
  dtype: DType;
  shape: number[];
}

const CONSTRUCTORS = {
  uint8: Uint8Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** View a wire array's bytes as a typed array of its dtype (copying only if misaligned). */
export function toTypedArray(a: WireArray): Uint8Array | Int32Array | Float32Array | Float64Array {
  const Ctor = CONSTRUCTORS[a.dtype];
  if (!Ctor) throw new Error(`genwidgets: unsupported dtype ${a.dtype}`);
  const view = a.buffer instanceof DataView ? a.buffer : new DataView(a.buffer);
  const bytes = Ctor.BYTES_PER_ELEMENT;
  if (view.byteOffset % bytes === 0) {
    return new Ctor(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength / bytes);
  }
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return new Ctor(copy.buffer);
}
