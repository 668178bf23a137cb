// The read-buffer pool: buffers come back for reuse, and the sizes in use win over idle ones.

import assert from "node:assert/strict";
import { test } from "node:test";
import { giveReadBuffer, takeReadBuffer } from "../../src/server/http/read-buffers.js";

test("a full pool makes room for the size given back by dropping idle buffers of other sizes", () => {
  const large = Array.from({ length: 8 }, () => takeReadBuffer(8_000_000));
  for (const b of large) giveReadBuffer(b);
  const small = Array.from({ length: 8 }, () => takeReadBuffer(1_000_000));
  for (const b of small) giveReadBuffer(b);
  // Taken again, the small ones are the very buffers given back: the large burst did not crowd them out.
  const again = Array.from({ length: 8 }, () => takeReadBuffer(1_000_000));
  for (const b of again)
    assert.ok(
      small.some((s) => s.buffer === b.buffer),
      "a pooled 1 MB buffer",
    );
  // One 8 MiB buffer made room for the eight of 1 MiB; the other seven are still there.
  const large2 = Array.from({ length: 8 }, () => takeReadBuffer(8_000_000));
  assert.equal(large2.filter((b) => large.some((l) => l.buffer === b.buffer)).length, 7);
});
