// The URL shapes that name a needle, as weed's volume server reads them:
//   /3,01637037d6   /3,01637037d6.jpg   /3/01637037d6   /3/01637037d6.jpg   /3/01637037d6/name.jpg
// and a bare volume id (/3) for the proxy and redirect modes.

export interface FidPath {
  volumeId: string;
  /** Needle key and cookie in hex, with an optional _delta suffix. */
  fid: string;
  filename: string;
  /** Extension with its dot, "" when none. */
  ext: string;
  volumeIdOnly: boolean;
}

function extOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const slash = name.lastIndexOf("/");
  return dot > slash ? name.slice(dot) : "";
}

export function parseFidPath(path: string): FidPath {
  const parts = path.split("/");
  if (parts.length === 4) {
    const [, volumeId, fid, filename] = parts as [string, string, string, string];
    return { volumeId, fid, filename, ext: extOf(filename), volumeIdOnly: false };
  }
  if (parts.length === 3) {
    const [, volumeId, rest] = parts as [string, string, string];
    const dot = rest.lastIndexOf(".");
    return dot > 0
      ? { volumeId, fid: rest.slice(0, dot), filename: "", ext: rest.slice(dot), volumeIdOnly: false }
      : { volumeId, fid: rest, filename: "", ext: "", volumeIdOnly: false };
  }
  // weed finds the comma and the dot in the text from the last slash on, slash included, then uses
  // those positions as if counted from the start of the path: the same as counting in the last
  // element when the path has one slash, which is every fid URL of this shape.
  const sep = path.lastIndexOf("/");
  const last = path.slice(sep);
  const comma = last.lastIndexOf(",");
  if (comma <= 0)
    return { volumeId: path.slice(sep + 1), fid: "", filename: "", ext: "", volumeIdOnly: true };
  const dot = last.lastIndexOf(".");
  const volumeId = path.slice(sep + 1, comma);
  return dot > 0
    ? { volumeId, fid: path.slice(comma + 1, dot), filename: "", ext: path.slice(dot), volumeIdOnly: false }
    : { volumeId, fid: path.slice(comma + 1), filename: "", ext: "", volumeIdOnly: false };
}

/**
 * A request target that URL parsing leaves as it is: an absolute path of letters, digits and
 * ",_-/." with no query, no escapes, no dot segment ("/." starts one) and not "//" first (a host).
 */
export function isPlainPath(p: string): boolean {
  if (p.charCodeAt(0) !== 0x2f || p.charCodeAt(1) === 0x2f) return false;
  for (let i = 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a)) continue;
    if (c === 0x2c || c === 0x5f || c === 0x2d || c === 0x2f) continue;
    if (c === 0x2e && p.charCodeAt(i - 1) !== 0x2f) continue;
    return false;
  }
  return true;
}
