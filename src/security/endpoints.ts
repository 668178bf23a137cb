// Which peers and remote endpoints the server agrees to dial on a caller's behalf. A copy or tail
// source, or a remote-storage endpoint, named in an RPC must not turn the server into a proxy to
// its own loopback, the cloud metadata service or link-local addresses; remote endpoints must not
// reach private networks either. -volume.allowUntrustedRemoteEndpoints turns the checks off.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata"]);

/** The 16 bytes of an IP (IPv4 as ::ffff:a.b.c.d); undefined when not an IP literal. */
function ipBytes(text: string): Uint8Array | undefined {
  const host = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const kind = isIP(host);
  if (kind === 4) {
    const b = new Uint8Array(16);
    b[10] = 0xff;
    b[11] = 0xff;
    host.split(".").forEach((part, i) => {
      b[12 + i] = Number(part);
    });
    return b;
  }
  if (kind !== 6) return undefined;
  let head = host;
  let tail = "";
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  let v4Bytes: number[] = [];
  if (v4) {
    v4Bytes = v4[1]!.split(".").map(Number);
    head = host.slice(0, -v4[1]!.length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  [head, tail] = head.includes("::") ? (head.split("::") as [string, string]) : [head, ""];
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const total = 8 - v4Bytes.length / 2;
  const words = [...left, ...new Array(total - left.length - right.length).fill(0), ...right];
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[i * 2] = w >> 8;
    b[i * 2 + 1] = w & 0xff;
  });
  v4Bytes.forEach((v, i) => {
    b[12 + i] = v;
  });
  return b;
}

function isV4(b: Uint8Array): boolean {
  return b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

const allZero = (b: Uint8Array) => b.every((x) => x === 0);

function v4(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
}

/** An IPv4 address carried inside an IPv6 transition address (NAT64, 6to4, Teredo, compatible). */
function embeddedV4(b: Uint8Array): Uint8Array | undefined {
  if (isV4(b)) return undefined;
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && allZero(b.slice(4, 12)))
    return v4(b[12]!, b[13]!, b[14]!, b[15]!);
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b[2]!, b[3]!, b[4]!, b[5]!);
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0)
    return v4(b[12]! ^ 0xff, b[13]! ^ 0xff, b[14]! ^ 0xff, b[15]! ^ 0xff);
  if (allZero(b.slice(0, 12))) return v4(b[12]!, b[13]!, b[14]!, b[15]!);
  return undefined;
}

function format(b: Uint8Array): string {
  if (isV4(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return words.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** Throws when an address is one the server must not dial for `endpoint`. */
function checkIp(endpoint: string, b: Uint8Array, allowPrivate: boolean): void {
  const q = JSON.stringify(endpoint);
  const ip = format(b);
  const [a0, a1, a2, a3] = [b[12]!, b[13]!, b[14]!, b[15]!];
  if (isV4(b)) {
    if (a0 === 169 && a1 === 254 && a2 === 169 && a3 === 254)
      throw new Error(`remote endpoint ${q} targets instance metadata service ${ip}`);
    if (a0 === 127) throw new Error(`remote endpoint ${q} resolves to loopback address ${ip}`);
    if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0)
      throw new Error(`remote endpoint ${q} resolves to unspecified address ${ip}`);
    if ((a0 === 169 && a1 === 254) || (a0 === 224 && a1 === 0 && a2 === 0))
      throw new Error(`remote endpoint ${q} resolves to link-local address ${ip}`);
    if (!allowPrivate) {
      if (a0 === 10 || (a0 === 172 && (a1 & 0xf0) === 16) || (a0 === 192 && a1 === 168))
        throw new Error(`remote endpoint ${q} resolves to private address ${ip}`);
      if (a0 === 100 && (a1 & 0xc0) === 64)
        throw new Error(`remote endpoint ${q} resolves to CGNAT address ${ip}`);
    }
    return;
  }
  if (allZero(b.slice(0, 15)) && b[15] === 1)
    throw new Error(`remote endpoint ${q} resolves to loopback address ${ip}`);
  if (allZero(b)) throw new Error(`remote endpoint ${q} resolves to unspecified address ${ip}`);
  if ((b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) || (b[0] === 0xff && (b[1]! & 0x0f) === 2))
    throw new Error(`remote endpoint ${q} resolves to link-local address ${ip}`);
  if (b[0] === 0xff && (b[1]! & 0x0f) === 1)
    throw new Error(`remote endpoint ${q} resolves to interface-local address ${ip}`);
  if (!allowPrivate && (b[0]! & 0xfe) === 0xfc)
    throw new Error(`remote endpoint ${q} resolves to private address ${ip}`);
  const inner = embeddedV4(b);
  if (inner) checkIp(endpoint, inner, allowPrivate);
}

async function checkHost(endpoint: string, host: string, allowPrivate: boolean, what: string): Promise<void> {
  const literal = ipBytes(host);
  if (literal) return checkIp(endpoint, literal, allowPrivate);
  let addresses: { address: string }[];
  try {
    addresses = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("i/o timeout")), 2000).unref()),
    ]);
  } catch (err) {
    throw new Error(`resolve ${what} host ${JSON.stringify(host)}: ${(err as Error).message}`);
  }
  for (const { address } of addresses) {
    const b = ipBytes(address);
    if (b) checkIp(endpoint, b, allowPrivate);
  }
}

/** A copy or tail source: a bare host:port whose host is not loopback, link-local or metadata. */
export async function validateReplicaTarget(target: string): Promise<void> {
  const q = JSON.stringify(target);
  if (target.trim() === "") throw new Error("replica target is empty");
  if (target.includes("://") || /[/?#@\\]/.test(target))
    throw new Error(`replica target ${q} must be a bare host:port`);
  const colon = target.lastIndexOf(":");
  if (colon < 0)
    throw new Error(
      `replica target ${q} must be a bare host:port: address ${target}: missing port in address`,
    );
  let host = target.slice(0, colon);
  if (host.startsWith("[")) {
    if (!host.endsWith("]"))
      throw new Error(
        `replica target ${q} must be a bare host:port: address ${target}: missing ']' in address`,
      );
    host = host.slice(1, -1);
  } else if (host.includes(":")) {
    throw new Error(
      `replica target ${q} must be a bare host:port: address ${target}: too many colons in address`,
    );
  }
  if (host === "") throw new Error(`replica target ${q} has no host`);
  if (METADATA_HOSTS.has(host.toLowerCase()))
    throw new Error(`replica target ${q} targets instance metadata service`);
  await checkHost(target, host, true, "replica target");
}

/** A remote-storage endpoint URL: http(s), and not loopback, private, link-local or metadata. */
export async function validateRemoteEndpoint(endpoint: string): Promise<void> {
  const q = JSON.stringify(endpoint);
  if (endpoint.trim() === "") throw new Error("remote endpoint is empty");
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new Error(`parse remote endpoint ${q}: ${(err as Error).message}`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https")
    throw new Error(`remote endpoint ${q} must use http or https, got ${JSON.stringify(scheme)}`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw new Error(`remote endpoint ${q} has no host`);
  if (METADATA_HOSTS.has(host.toLowerCase()))
    throw new Error(`remote endpoint ${q} targets instance metadata service`);
  await checkHost(endpoint, host, false, "remote endpoint");
}
