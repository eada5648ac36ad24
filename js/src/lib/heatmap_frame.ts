// Frames of genwidgets.widgets.DiscriminatorHeatmap, as genwidgets/scores/frames.py builds them.

import type { WireArray } from "./ndarray";

/** The colour scale of a frame (genwidgets/scores/colour.py): a score range over RGB stops. */
export interface Scale {
  kind: "probability" | "critic";
  zmin: number;
  zmax: number;
  zmid: number;
  title: string;
  stops: [number, [number, number, number]][];
}

interface FrameBase {
  op: "frame";
  step: number;
  label: number | null;
  scale: Scale;
  summary?: { real_mean: number | null; fake_mean: number | null };
}

/** D(x) over the 2-D data plane, real and generated points, and the generator's arrows [x, y, dx, dy]. */
export interface PlaneFrame extends FrameBase {
  view: "plane";
  extent: [number, number, number, number];
  z: WireArray;
  real: WireArray;
  fake: WireArray;
  arrows: WireArray;
}

/** Real and generated images (N, H, W, C) with scores (N,), real flags (N,), and optional patch maps (N, h, w). */
export interface ScoresFrame extends FrameBase {
  view: "scores";
  images: WireArray;
  scores: WireArray;
  real: WireArray;
  patches?: WireArray;
}

/** D(G(z)) over a latent plane, with thumbnails (T, T, H, W, C) of G(z) for the hover. */
export interface LatentFrame extends FrameBase {
  view: "latent";
  extent: [number, number, number, number];
  z: WireArray;
  axes: string;
  thumbs?: WireArray;
}

export type Frame = PlaneFrame | ScoresFrame | LatentFrame;
