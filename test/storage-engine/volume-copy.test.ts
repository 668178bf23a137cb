// Swapping a copied volume in for the replica here: the copy replaces it when it checks out; when
// it does not, the previous replica comes back, mounted; a swap cut short by a crash is swept at
// the next load instead of served.

import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { newNeedle } from "../../src/storage/needle/needle.js";
import { EMPTY_TTL } from "../../src/storage/needle/ttl.js";
import { Store } from "../../src/storage/store/store.js";
import { installCopy, stageCopy } from "../../src/storage/store/volume-copy.js";
import { parseReplicaPlacement } from "../../src/storage/volume/replica-placement.js";
import { createVolume } from "../../src/storage/volume/volume-load.js";

const scratch = mkdtempSync(join(tmpdir(), "wv-copy-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function newStore(dir: string): Store {
  return new Store({
    locations: [
      {
        directory: dir,
        idxDirectory: "",
        maxVolumeCount: 8,
        minFreeSpace: { kind: "percent", percent: 0 },
        diskType: "",
        tags: [],
      },
    ],
    defaultWidth: 4,
    log: { info: () => undefined, warn: () => undefined },
  });
}

/** A volume 5 elsewhere holding `text` under key 1, copied into the store's staging names. */
function stageFrom(store: Store, text: string) {
  const source = mkdtempSync(join(scratch, "src-"));
  const v = createVolume(
    { dir: source, idxDir: source, collection: "", id: 5 },
    { replicaPlacement: parseReplicaPlacement("000"), ttl: EMPTY_TTL, width: 4 },
  );
  v.write(newNeedle({ keyLo: 1, cookie: 9, data: Buffer.from(text) }));
  v.close();
  const staged = stageCopy(store, 5, "", "", 0);
  copyFileSync(join(source, "5.dat"), `${staged.stagedDataBase}.dat`);
  copyFileSync(join(source, "5.idx"), `${staged.stagedIndexBase}.idx`);
  return staged;
}

function readKey1(store: Store): string {
  return store.findVolume(5)!.read(0, 1).data.toString();
}

test("a checked copy replaces the mounted replica", () => {
  const dir = mkdtempSync(join(scratch, "dst-"));
  const store = newStore(dir);
  store.addVolume(5, "", "000", "").write(newNeedle({ keyLo: 1, cookie: 9, data: Buffer.from("old") }));
  const staged = stageFrom(store, "new");
  installCopy(store, staged, "peer:8080", () => undefined);
  assert.equal(readKey1(store), "new");
  assert.equal(existsSync(join(dir, "5.note")), false);
  assert.equal(existsSync(join(dir, "copying", "replaced_5.dat")), false);
  store.close();
});

test("a copy refused after mounting gives the previous replica back", () => {
  const dir = mkdtempSync(join(scratch, "dst-"));
  const store = newStore(dir);
  store.addVolume(5, "", "000", "").write(newNeedle({ keyLo: 1, cookie: 9, data: Buffer.from("old") }));
  const staged = stageFrom(store, "new");
  assert.throws(
    () =>
      installCopy(store, staged, "peer:8080", () => {
        throw new Error("target file count [1] is not same as origin file count [2]");
      }),
    /file count/,
  );
  assert.equal(readKey1(store), "old");
  assert.equal(existsSync(`${staged.stagedDataBase}.dat`), false);
  store.close();
});

test("a swap cut short (its .note left behind) is swept at load, not served", async () => {
  const dir = mkdtempSync(join(scratch, "dst-"));
  const store = newStore(dir);
  store.addVolume(7, "", "000", "").write(newNeedle({ keyLo: 1, cookie: 9, data: Buffer.from("partial") }));
  store.close();
  writeFileSync(join(dir, "7.note"), "copying from peer:8080");
  const warnings: string[] = [];
  const reloaded = new Store({
    locations: [
      {
        directory: dir,
        idxDirectory: "",
        maxVolumeCount: 8,
        minFreeSpace: { kind: "percent", percent: 0 },
        diskType: "",
        tags: [],
      },
    ],
    defaultWidth: 4,
    log: { info: () => undefined, warn: (m) => warnings.push(m) },
  });
  await reloaded.loadExistingVolumes();
  assert.equal(reloaded.findVolume(7), undefined);
  assert.equal(existsSync(join(dir, "7.dat")), false);
  assert.match(warnings.join("\n"), /volume 7 was not completed: copying from peer:8080/);
  reloaded.close();
});
