// The runtime this server is built for. Plain code on purpose: it must load and run on an old
// Node.js too, to tell the operator so in one line.

/** The oldest Node.js major this server runs on; package.json's engines.node says the same. */
export const MIN_NODE_MAJOR = 24;

/** Why `version` ("v20.20.2") cannot run the server, or undefined when it can. */
export function runtimeTooOld(version: string, execPath: string): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `needs Node.js ${MIN_NODE_MAJOR} or later, but ${execPath} is ${version}`;
}
