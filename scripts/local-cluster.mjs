// npm run cluster: a local cluster of the real pinned `weed master` and our volume server, data under
// ./data, until Ctrl-C. Prints curl commands for an upload and a download through it.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensureWeed, root } from "./lib/weed.mjs";

const MASTER_PORT = Number(process.env.MASTER_PORT ?? 9333);
const VOLUME_PORT = Number(process.env.VOLUME_PORT ?? 8080);
const IP = "127.0.0.1";
const data = join(root, "data");

const weed = ensureWeed();
mkdirSync(join(data, "master"), { recursive: true });
mkdirSync(join(data, "volume"), { recursive: true });

const children = [];
function start(name, command, args) {
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  child.on("exit", (code, signal) => {
    if (!shuttingDown) {
      console.error(`${name} exited (${signal ?? code}); stopping the cluster`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

let shuttingDown = false;
function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const c of children.reverse()) c.kill("SIGINT");
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on("exit", r))))).then(
    () => process.exit(code),
  );
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

async function waitFor(url, accept = (r) => r.ok, seconds = 60) {
  for (let i = 0; i < seconds * 5; i++) {
    try {
      if (accept(await fetch(url))) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${url}`);
}

start("weed master", weed, [
  "master",
  `-ip=${IP}`,
  `-port=${MASTER_PORT}`,
  `-mdir=${join(data, "master")}`,
  "-peers=none",
  "-volumeSizeLimitMB=1024",
  "-defaultReplication=000",
]);
await waitFor(`http://${IP}:${MASTER_PORT}/dir/status`);
start("weed-volume", join(root, "bin", "weed-volume"), [
  `-ip=${IP}`,
  `-port=${VOLUME_PORT}`,
  `-dir=${join(data, "volume")}`,
  "-max=16",
  `-master=${IP}:${MASTER_PORT}`,
]);
await waitFor(`http://${IP}:${VOLUME_PORT}/healthz`);

console.log(`
cluster up: master http://${IP}:${MASTER_PORT}, our volume server http://${IP}:${VOLUME_PORT} (data in ./data)

  # upload: ask the master for a file id, then send the file to the volume server
  fid=$(curl -s http://${IP}:${MASTER_PORT}/dir/assign | sed -E 's/.*"fid":"([^"]+)".*/\\1/')
  curl -s -F file=@README.md http://${IP}:${VOLUME_PORT}/$fid
  # download
  curl -s http://${IP}:${VOLUME_PORT}/$fid

Ctrl-C stops both.`);
