// On-the-fly image crop and resize for reads (?crop_x1=..&crop_y2=.., ?width=&height=&mode=), with
// weed's rules: crop first, then resize only when the image is larger than asked; the result is
// encoded in the file extension's format (webp comes back as PNG, as weed does). sharp (libvips)
// does the pixel work on libuv's thread pool, off the event loop.

import type { FitEnum, Sharp } from "sharp";
import { loadSharp } from "./sharp.js";

const RESIZABLE = new Set([".png", ".jpg", ".jpeg", ".gif", ".webp"]);
const CROPPABLE = new Set([".png", ".jpg", ".jpeg", ".gif"]);

export interface ImageOps {
  crop?: { x1: number; y1: number; x2: number; y2: number };
  resize?: { width: number; height: number; mode: string };
}

/** strconv.Atoi, with weed's habit of treating a bad number as 0. */
function intParam(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  return v !== null && /^[+-]?\d+$/.test(v) ? Number(v) : 0;
}

export function imageOps(ext: string, query: URLSearchParams): ImageOps {
  const e = ext.toLowerCase();
  const ops: ImageOps = {};
  if (CROPPABLE.has(e)) {
    const c = {
      x1: intParam(query, "crop_x1"),
      y1: intParam(query, "crop_y1"),
      x2: intParam(query, "crop_x2"),
      y2: intParam(query, "crop_y2"),
    };
    if (c.x1 >= 0 && c.y1 >= 0 && c.x2 > c.x1 && c.y2 > c.y1) ops.crop = c;
  }
  if (RESIZABLE.has(e)) {
    const width = intParam(query, "width");
    const height = intParam(query, "height");
    if (width > 0 || height > 0) ops.resize = { width, height, mode: query.get("mode") ?? "" };
  }
  return ops;
}

export function hasImageOps(ops: ImageOps): boolean {
  return ops.crop !== undefined || ops.resize !== undefined;
}

function encode(image: Sharp, ext: string): Sharp {
  switch (ext.toLowerCase()) {
    case ".jpg":
    case ".jpeg":
      return image.jpeg({ quality: 75 });
    case ".gif":
      return image.gif();
    default:
      return image.png();
  }
}

/** Applies the operations; any decoding trouble returns the original bytes, as weed does. */
export async function transformImage(data: Buffer, ext: string, ops: ImageOps): Promise<Buffer> {
  let current = data;
  try {
    const sharp = await loadSharp();
    if (ops.crop) {
      const { width = 0, height = 0 } = await sharp(current).metadata();
      const { x1, y1, x2, y2 } = ops.crop;
      if (x2 <= width && y2 <= height) {
        current = await encode(
          sharp(current).extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 }),
          ext,
        ).toBuffer();
      }
    }
    if (ops.resize) {
      const { width = 0, height = 0 } = await sharp(current).metadata();
      const r = ops.resize;
      if ((width > r.width && r.width !== 0) || (height > r.height && r.height !== 0)) {
        let fit: keyof FitEnum = "fill";
        if (r.mode === "fit") fit = "inside";
        else if (r.mode === "fill" || (r.width === r.height && width !== height)) fit = "cover";
        else if (r.width === 0 || r.height === 0) fit = "inside";
        current = await encode(
          sharp(current).resize({
            width: r.width || undefined,
            height: r.height || undefined,
            fit,
            position: "centre",
          }),
          ext,
        ).toBuffer();
      }
    }
  } catch {
    return current;
  }
  return current;
}
