// images.fix.orientation: a JPEG upload whose EXIF says it is rotated or mirrored is stored turned
// upright, as weed does (it re-encodes the pixels and drops the EXIF; an upright, EXIF-less or
// undecodable image is stored as sent). sharp does the work off the event loop.

import sharp from "sharp";

export async function fixJpgOrientation(data: Buffer): Promise<Buffer> {
  try {
    const { orientation } = await sharp(data).metadata();
    if (orientation === undefined || orientation === 1) return data;
    // Go's image/jpeg encoder defaults to quality 75.
    return await sharp(data).rotate().jpeg({ quality: 75 }).toBuffer();
  } catch {
    return data;
  }
}

/** weed applies it to files typed image/jpeg or named .jpg/.jpeg. */
export function isJpegUpload(mimeType: string, fileName: string): boolean {
  const name = fileName.toLowerCase();
  return mimeType === "image/jpeg" || name.endsWith(".jpg") || name.endsWith(".jpeg");
}
