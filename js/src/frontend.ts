// The whole genwidgets front end as one ES module: the widgets and the one plotly.js build they share.
//
// loader.ts (each widget's `_esm`) imports this once per page and picks its widget by kind.

import discriminator_heatmap from "./widgets/discriminator_heatmap";
import latent_explorer from "./widgets/latent_explorer";
import runs_board from "./widgets/runs_board";
import training_panel from "./widgets/training_panel";
import type { AnyModel } from "./lib/anywidget";

/** What a widget module exports: anywidget's `initialize` and `render`, each returning its cleanup. */
export interface Widget {
  initialize(props: { model: AnyModel<any> }): () => void;
  render(props: { model: AnyModel<any>; el: HTMLElement }): () => void;
}

const FRONT_END = { training_panel, latent_explorer, discriminator_heatmap, runs_board } satisfies Record<string, Widget>;

export type FrontEnd = typeof FRONT_END;

export default FRONT_END;
