// One store per widget model in this page, shared by the widget's `initialize` and every `render`.
//
// anywidget hands `initialize` and `render` different proxies of one model, so a widget's data (what
// Python sent: metric rows, the newest frame, the map...) is keyed by the model's `uid` trait (see
// genwidgets/widgets/live_widget.py). `connect` is the widget side of the hello handshake: it listens
// for Python's messages, says hello (Python answers with everything, once), and on cleanup stops
// listening and drops the store.

import { listen, type AnyModel, type Buffers } from "./anywidget";

/** Listeners of one store: `add` returns the function that removes the listener again. */
export class Listeners<A extends unknown[] = []> {
  private readonly set = new Set<(...args: A) => void>();

  add(listener: (...args: A) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(...args: A): void {
    for (const l of this.set) l(...args);
  }
}

export class WidgetStores<T> {
  private readonly stores = new Map<string, T>();

  /** `make` builds the empty store of a model the first time it is asked for. */
  constructor(private readonly make: (model: AnyModel<any>) => T) {}

  /** The store of `model` (made on first use). */
  of(model: AnyModel<any>): T {
    const uid = String(model.get("uid"));
    let store = this.stores.get(uid);
    if (store === undefined) {
      store = this.make(model);
      this.stores.set(uid, store);
    }
    return store;
  }

  /**
   * For `initialize`: pass Python's custom messages to `onMessage` and send `hello`; returns the
   * cleanup, which stops listening and forgets the model's store.
   */
  connect(model: AnyModel<any>, onMessage: (content: any, buffers: Buffers) => void, hello: Record<string, unknown>,
  ): () => void {
    const stop = listen(model, "msg:custom", onMessage);
    model.send({ op: "hello", ...hello });
    return () => {
      stop();
      this.stores.delete(String(model.get("uid")));
    };
  }
}
