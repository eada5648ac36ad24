// The slice of anywidget's model API the widgets use (anywidget >= 0.9, AFM).

export type Buffers = (DataView | ArrayBuffer)[];

export interface AnyModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
}

/** Subscribe to a model event; returns the function that unsubscribes. */
export function listen(model: AnyModel, event: string, callback: (...args: any[]) => void): () => void {
  model.on(event, callback);
  return () => model.off(event, callback);
}
