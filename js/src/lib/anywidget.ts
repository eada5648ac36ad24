// The slice of anywidget's model API the widgets use (anywidget >= 0.9, AFM), typed by each widget's traits.

export type Buffers = (DataView | ArrayBuffer)[];

/** A widget model whose synced traits are `T` (one interface per widget, in its `widgets/*.ts`). */
export interface AnyModel<T extends object = Record<string, unknown>> {
  get<K extends keyof T & string>(name: K): T[K];
  set<K extends keyof T & string>(name: K, value: T[K]): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
}

/** The traits every genwidgets widget has (genwidgets/widgets/live_widget.py). */
export interface LiveTraits {
  uid: string;
}

/** Subscribe to a model event; returns the function that unsubscribes. */
export function listen<T extends object>(model: AnyModel<T>, event: string, callback: (...args: any[]) => void,
): () => void {
  model.on(event, callback);
  return () => model.off(event, callback);
}

/** Set a trait and send it to Python. */
export function setTrait<T extends object, K extends keyof T & string>(model: AnyModel<T>, name: K, value: T[K]): void {
  model.set(name, value);
  model.save_changes();
}
