// The one plotly.js build of the front end (js/vendor/plotly.min.mjs: core + scatter, scattergl, heatmap,
// made by js/plotly/build.cjs), typed with the calls the widgets make.

import PlotlyBuild from "../../vendor/plotly.min.mjs";

export interface PlotlyLike {
  react(div: HTMLElement, data: object[], layout?: object, config?: object): Promise<unknown>;
  newPlot(div: HTMLElement, data: object[], layout?: object, config?: object): Promise<unknown>;
  extendTraces(div: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[]): Promise<unknown>;
  restyle(div: HTMLElement, update: object, indices?: number[]): Promise<unknown>;
  relayout(div: HTMLElement, update: object): Promise<unknown>;
  purge(div: HTMLElement): void;
  Plots: { resize(div: HTMLElement): Promise<unknown> };
}

export const Plotly = PlotlyBuild as PlotlyLike;
