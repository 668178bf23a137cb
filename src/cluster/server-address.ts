// SeaweedFS server addresses: "host:port" or "host:port.grpcPort". Without an explicit gRPC port,
// a server's gRPC port is its HTTP port + 10000.

export const GRPC_PORT_OFFSET = 10000;

function split(address: string): { host: string; ports: string } | undefined {
  const colon = address.lastIndexOf(":");
  if (colon < 0 || colon + 1 >= address.length) return undefined;
  return { host: address.slice(0, colon), ports: address.slice(colon + 1) };
}

export function toHttpAddress(address: string): string {
  const parts = split(address);
  if (!parts) return address;
  const dot = parts.ports.lastIndexOf(".");
  return dot < 0 ? address : `${parts.host}:${parts.ports.slice(0, dot)}`;
}

export function toGrpcAddress(address: string): string {
  const parts = split(address);
  if (!parts) return address;
  const dot = parts.ports.lastIndexOf(".");
  if (dot >= 0) return `${parts.host}:${parts.ports.slice(dot + 1)}`;
  const port = Number(parts.ports);
  return Number.isInteger(port) ? `${parts.host}:${port + GRPC_PORT_OFFSET}` : address;
}

export function sameServer(a: string, b: string): boolean {
  return a === b || toHttpAddress(a) === toHttpAddress(b);
}

/** "host:port", bracketing an IPv6 host as Go's net.JoinHostPort does. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
