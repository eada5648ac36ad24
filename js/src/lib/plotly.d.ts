// Minimal typing for the bundled plotly.js build (plotly.js-basic-dist-min ships no types).
declare module "plotly.js-basic-dist-min" {
  const Plotly: {
    react(div: HTMLElement, data: object[], layout?: object, config?: object): Promise<unknown>;
    extendTraces(div: HTMLElement, update: { x: number[][]; y: number[][] }, indices: number[]): Promise<unknown>;
    relayout(div: HTMLElement, update: object): Promise<unknown>;
    purge(div: HTMLElement): void;
    Plots: { resize(div: HTMLElement): Promise<unknown> };
  };
  export default Plotly;
}
