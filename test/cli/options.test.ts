import assert from "node:assert/strict";
import { test } from "node:test";
import { FlagError } from "../../src/cli/flag-set.js";
import { buildOptions } from "../../src/cli/options.js";
import { volumeFlagSet } from "../../src/cli/volume-flags.js";

const options = (...args: string[]) => buildOptions(volumeFlagSet().parse(args));

test("derived ports and addresses follow weed", () => {
  const o = options("-port=9000", "-ip=10.0.0.5");
  assert.equal(o.grpcPort, 19000);
  assert.equal(o.publicPort, 9000);
  assert.equal(o.bindIp, "10.0.0.5");
  assert.equal(o.listenOnLocalhost, true);
  assert.equal(o.id, "10.0.0.5:9000");
  assert.equal(o.publicUrl, "10.0.0.5:9000");
  const p = options("-port=9000", "-ip=10.0.0.5", "-ip.bind=0.0.0.0", "-port.public=9001", "-id=node-a");
  assert.equal(p.listenOnLocalhost, false);
  assert.equal(p.publicUrl, "10.0.0.5:9001");
  assert.equal(p.id, "node-a");
});

test("per-folder settings: one value spreads over all folders, otherwise one each", () => {
  const o = options("-dir=/a,/b", "-max=7", "-disk=ssd", "-tags=Fast:ssd:fast", "-minFreeSpace=10GiB");
  assert.deepEqual(
    o.folders.map((f) => [f.directory, f.maxVolumeCount, f.diskType, f.tags]),
    [
      ["/a", 7, "ssd", ["fast", "ssd"]],
      ["/b", 7, "ssd", ["fast", "ssd"]],
    ],
  );
  assert.deepEqual(o.folders[0]!.minFreeSpace, { kind: "bytes", bytes: 10 * 1024 ** 3, raw: "10GiB" });
  const q = options("-dir=/a,/b", "-max=1,0", "-disk=hdd,ssd", "-tags=x");
  assert.deepEqual(
    q.folders.map((f) => [f.maxVolumeCount, f.diskType, f.tags]),
    [
      [1, "", ["x"]],
      [0, "ssd", ["x"]],
    ],
  );
  assert.deepEqual(q.folders[1]!.minFreeSpace, { kind: "percent", percent: 1, raw: "1" });
});

test("masters: -mserver overrides -master; durations and sizes convert", () => {
  const o = options(
    "-master=a:9333,b:9333",
    "-mserver=c:9333",
    "-inflightUploadDataTimeout=2s",
    "-concurrentUploadLimitMB=3",
  );
  assert.deepEqual(o.masters, ["c:9333"]);
  assert.equal(o.inflightUploadDataTimeoutMs, 2000);
  assert.equal(o.concurrentUploadLimitBytes, 3 * 1024 * 1024);
});

test("flags given but not honoured yet are named", () => {
  assert.deepEqual(options("-port=1", "-log_compress", "-compactionMBps=5", "-vmodule=x=1").notImplemented, [
    "log_compress",
    "vmodule",
  ]);
});

test("bad per-folder values are flag errors", () => {
  assert.throws(() => options("-max=x"), FlagError);
  assert.throws(() => options("-dir=/a,/b,/c", "-max=1,2"), /3 directories by -dir, but only 2 max/);
  assert.throws(() => options("-minFreeSpace=101"), /minFreeSpace not a valid value 101/);
  assert.throws(() => options("-minFreeSpace=50B"), /not a valid value 50B/);
  assert.throws(() => options("-port=70000"), /not a port number/);
});
