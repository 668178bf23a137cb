// sharp (libvips, a native addon) takes some 90 ms to load: imported on the first image operation
// instead of at start-up, since most volume servers never transform an image.

import type sharpModule from "sharp";

export type SharpFactory = typeof sharpModule;

let loading: Promise<SharpFactory> | undefined;

export function loadSharp(): Promise<SharpFactory> {
  loading ??= import("sharp").then((m) => m.default);
  return loading;
}
