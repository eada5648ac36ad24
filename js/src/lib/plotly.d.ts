// Minimal typing for the bundled plotly.js builds (the *-dist-min packages ship no types).
// basic (scatter, bar) for the training panel's curves; gl2d (scattergl) for the latent explorer's
// 10k-point map; cartesian (heatmap, scatter) for the discriminator heatmap.

interface PlotlyLike {
  react(div: HTMLElement, data: object[], layout?: object, config?: object): Promise<unknown>;
  newPlot(div: HTMLElement, data: object[], layout?: object, config?: object): Promise<unknown>;
  extendTraces(div: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[]): Promise<unknown>;
  restyle(div: HTMLElement, update: object, indices?: number[]): Promise<unknown>;
  relayout(div: HTMLElement, update: object): Promise<unknown>;
  purge(div: HTMLElement): void;
  Plots: { resize(div: HTMLElement): Promise<unknown> };
}

declare module "plotly.js-basic-dist-min" {
  const Plotly: PlotlyLike;
  export default Plotly;
}

declare module "plotly.js-gl2d-dist-min" {
  const Plotly: PlotlyLike;
  export default Plotly;
}

declare module "plotly.js-cartesian-dist-min" {
  const Plotly: PlotlyLike;
  export default Plotly;
}

// A bundled package required lazily (see lazy_plotly.ts): esbuild resolves it at build time.
declare function require(id: string): unknown;
