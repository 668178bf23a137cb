// JWTs that authorize one file id, as weed's master hands them to clients: HMAC-signed, with a
// "fid" claim and optional exp/nbf. Taken from ?jwt=, then "Authorization: Bearer", then the AT cookie.

import type { IncomingMessage } from "node:http";

// jose takes some 40 ms to load: imported when the first token is checked or signed, so servers
// without jwt keys never pay for it at start-up.
let jose: Promise<typeof import("jose")> | undefined;
const loadJose = () => {
  jose ??= import("jose");
  return jose;
};

const encoder = new TextEncoder();
const keyCache = new Map<string, Uint8Array>();

function keyBytes(key: string): Uint8Array {
  let bytes = keyCache.get(key);
  if (!bytes) {
    bytes = encoder.encode(key);
    keyCache.set(key, bytes);
  }
  return bytes;
}

export function tokenFromRequest(req: IncomingMessage, query: URLSearchParams): string {
  const fromQuery = query.get("jwt");
  if (fromQuery) return fromQuery;
  const bearer = req.headers.authorization;
  if (bearer && bearer.length > 7 && bearer.slice(0, 6).toUpperCase() === "BEARER") return bearer.slice(7);
  const cookies = req.headers.cookie;
  if (cookies) {
    for (const part of cookies.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === "AT") return part.slice(eq + 1).trim();
    }
  }
  return "";
}

/**
 * True when `token` is signed with `key` (any HMAC), is within its exp/nbf window, and names this
 * file id. A "_delta" style suffix on the request's fid is ignored, as weed does.
 */
export async function verifyFileIdToken(
  key: string,
  token: string,
  volumeId: string,
  fid: string,
): Promise<boolean> {
  if (token === "") return false;
  const { errors, jwtVerify } = await loadJose();
  try {
    const { payload } = await jwtVerify(token, keyBytes(key), { algorithms: ["HS256", "HS384", "HS512"] });
    const sep = fid.lastIndexOf("_");
    const bare = sep > 0 ? fid.slice(0, sep) : fid;
    return payload["fid"] === `${volumeId},${bare}`;
  } catch (err) {
    if (err instanceof errors.JOSEError || err instanceof TypeError) return false;
    throw err;
  }
}

/** A token for one file id, as weed's GenJwtForVolumeServer makes it (used for replication). */
export async function signFileIdToken(
  key: string,
  expiresAfterSeconds: number,
  fileId: string,
): Promise<string> {
  if (key === "") return "";
  const { SignJWT } = await loadJose();
  const jwt = new SignJWT({ fid: fileId }).setProtectedHeader({ alg: "HS256", typ: "JWT" });
  if (expiresAfterSeconds > 0) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresAfterSeconds);
  return jwt.sign(keyBytes(key));
}
