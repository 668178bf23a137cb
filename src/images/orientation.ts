// images.fix.orientation: a JPEG upload carrying an EXIF orientation other than "top left" is
// stored turned upright and re-encoded without the tag, as weed does; anything sharp cannot read
// as such a JPEG (including gzip-stored data) is stored as sent.

import { loadSharp } from "./sharp.js";

/** Whether weed would try to fix this upload: a JPEG by its type or its file name. */
export function isJpegUpload(mimeType: string, fileName: string): boolean {
  const name = fileName.toLowerCase();
  return mimeType === "image/jpeg" || name.endsWith(".jpg") || name.endsWith(".jpeg");
}

export async function fixJpgOrientation(data: Buffer): Promise<Buffer> {
  try {
    const sharp = await loadSharp();
    const { format, orientation } = await sharp(data).metadata();
    if (format !== "jpeg" || orientation === undefined || orientation === 1) return data;
    return await sharp(data).rotate().jpeg().toBuffer();
  } catch {
    return data;
  }
}
