// TLS end to end with the real pinned Go master: both read one security.toml with gRPC mutual TLS
// ([grpc.master], [grpc.volume], [grpc.ca]); our admin port speaks HTTPS requiring client
// certificates ([https.volume] ca). Our heartbeat reaches the master over mTLS, uploads and reads
// go over HTTPS, clients without a certificate are refused (HTTPS and gRPC), and a certificate
// replaced on disk is served without a restart.

import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import { credentials, Metadata } from "@grpc/grpc-js";
import { VolumeServerClient } from "../../src/pb/volume_server.js";
import {
  freePort,
  launcher,
  type Master,
  type Proc,
  scratchDir,
  startMaster,
  startProcess,
  waitFor,
  weedBinary,
} from "../support/processes.js";
import { type Leaf, makeCa, makeLeaf } from "./certs.js";

interface Reply {
  status: number;
  body: Buffer;
}

function httpsCall(
  url: string,
  options: { method?: string; body?: Buffer; ca: string; client?: Leaf; headers?: Record<string, string> },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        ca: readFileSync(options.ca),
        ...(options.client
          ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }
          : {}),
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The common name of the certificate the server presents now. */
function servedCommonName(port: number, ca: string, client: Leaf): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: "127.0.0.1",
        port,
        ca: readFileSync(ca),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
      },
      () => {
        const cn = socket.getPeerCertificate().subject?.CN ?? "";
        socket.end();
        resolve(String(cn));
      },
    );
    socket.on("error", reject);
  });
}

const { dir, cleanup } = scratchDir("wv-tls-");
let master: Master;
let volume: Proc;
let filer: Proc | undefined;
let port: number;
let grpcPort: number;
let ca: string;
let client: Leaf;
let server: Leaf;

before(async () => {
  ca = makeCa(dir);
  server = makeLeaf(dir, "volume", "volume");
  client = makeLeaf(dir, "client", "client");
  const masterLeaf = makeLeaf(dir, "master", "master");
  writeFileSync(
    join(dir, "security.toml"),
    [
      "[grpc]",
      `ca = "${ca}"`,
      "[grpc.master]",
      `cert = "${masterLeaf.cert}"`,
      `key = "${masterLeaf.key}"`,
      "[grpc.volume]",
      `cert = "${server.cert}"`,
      `key = "${server.key}"`,
      "[grpc.filer]",
      `cert = "${masterLeaf.cert}"`,
      `key = "${masterLeaf.key}"`,
      // The filer reaches our HTTPS admin port with a client certificate.
      "[https.client]",
      "enabled = true",
      `cert = "${client.cert}"`,
      `key = "${client.key}"`,
      `ca = "${ca}"`,
      "[https.volume]",
      `cert = "${server.cert}"`,
      `key = "${server.key}"`,
      `ca = "${ca}"`,
      "",
    ].join("\n"),
  );
  // Both processes find security.toml in their working directory, as weed looks for it.
  master = await startMaster(dir);
  port = await freePort();
  grpcPort = await freePort();
  process.env["WEED_TLS_CERT_REFRESH_INTERVAL"] = "200ms";
  volume = startProcess(
    launcher,
    [
      `-port=${port}`,
      `-port.grpc=${grpcPort}`,
      "-ip=127.0.0.1",
      `-dir=${join(dir)}`,
      "-max=4",
      `-master=127.0.0.1:${master.port}.${master.grpcPort}`,
      "-preStopSeconds=0",
    ],
    dir,
    "volume",
  );
  delete process.env["WEED_TLS_CERT_REFRESH_INTERVAL"];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await httpsCall(`https://127.0.0.1:${port}/healthz`, { ca, client }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`volume server not healthy over HTTPS:\n${volume.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await filer?.stop();
  await volume?.stop();
  await master?.proc.stop();
  cleanup();
});

test("the Go master sees our heartbeat over gRPC mutual TLS", async () => {
  const status = (await (await fetch(`${master.url}/dir/status`)).json()) as object;
  assert.match(JSON.stringify(status), new RegExp(`127\\.0\\.0\\.1:${port}`));
});

test("assign, upload and read over HTTPS with a client certificate", async () => {
  const assign = (await (await fetch(`${master.url}/dir/assign`)).json()) as { fid: string; url: string };
  assert.ok(assign.fid, JSON.stringify(assign));
  const body = Buffer.from("hello over tls");
  const put = await httpsCall(`https://127.0.0.1:${port}/${assign.fid}`, {
    method: "POST",
    body,
    ca,
    client,
    headers: { "Content-Type": "application/octet-stream" },
  });
  assert.equal(put.status, 201, put.body.toString());
  const get = await httpsCall(`https://127.0.0.1:${port}/${assign.fid}`, { ca, client });
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, body);
});

test("a client without a certificate is refused (HTTPS and gRPC)", async () => {
  await assert.rejects(httpsCall(`https://127.0.0.1:${port}/status`, { ca }));
  const noCert = new VolumeServerClient(`127.0.0.1:${grpcPort}`, credentials.createSsl(readFileSync(ca)), {});
  const withCert = new VolumeServerClient(
    `127.0.0.1:${grpcPort}`,
    credentials.createSsl(readFileSync(ca), readFileSync(client.key), readFileSync(client.cert), {
      checkServerIdentity: () => undefined,
    }),
    {},
  );
  const status = (c: VolumeServerClient) =>
    new Promise<Error | null>((resolve) =>
      c.volumeServerStatus({}, new Metadata(), { deadline: Date.now() + 5000 }, (err) => resolve(err)),
    );
  assert.ok(await status(noCert), "a gRPC call without a client certificate must fail");
  assert.equal(await status(withCert), null);
  noCert.close();
  withCert.close();
});

test("a certificate replaced on disk is served without a restart", async () => {
  assert.equal(await servedCommonName(port, ca, client), "volume");
  const rotated = makeLeaf(dir, "rotated", "rotated");
  copyFileSync(rotated.key, server.key);
  copyFileSync(rotated.cert, server.cert);
  const deadline = Date.now() + 10_000;
  let cn = "";
  while (Date.now() < deadline) {
    cn = await servedCommonName(port, ca, client).catch(() => "");
    if (cn === "rotated") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(cn, "rotated");
  // The heartbeat and HTTPS go on with the new identity.
  const r = await httpsCall(`https://127.0.0.1:${port}/status`, { ca, client });
  assert.equal(r.status, 200);
});

test("a Go filer writes and reads through our volume server over TLS", async () => {
  const filerPort = await freePort();
  const filerGrpc = await freePort();
  filer = startProcess(
    weedBinary(),
    ["filer", "-ip=127.0.0.1", `-port=${filerPort}`, `-port.grpc=${filerGrpc}`].concat([
      `-master=127.0.0.1:${master.port}.${master.grpcPort}`,
      `-defaultStoreDir=${dir}`,
    ]),
    dir,
    "filer",
  );
  const url = `http://127.0.0.1:${filerPort}/tls/hello.txt`;
  await waitFor(`http://127.0.0.1:${filerPort}/`, (s) => s < 500);
  const form = new FormData();
  form.append("file", new Blob(["through the filer"]), "hello.txt");
  const put = await fetch(url, { method: "POST", body: form });
  assert.equal(put.status, 201, `${await put.text()}\n${filer.log()}`);
  const get = await fetch(url);
  assert.equal(await get.text(), "through the filer");
  const meta = (await (await fetch(`${url}?metadata=true`)).json()) as { chunks: { file_id: string }[] };
  const fid = meta.chunks[0]!.file_id;
  const direct = await httpsCall(`https://127.0.0.1:${port}/${fid}`, { ca, client });
  assert.equal(direct.body.toString(), "through the filer");
});
