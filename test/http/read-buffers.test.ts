// The read-buffer pool: buffers come back for reuse, and no one size can fill the pool for the rest.

import assert from "node:assert/strict";
import { test } from "node:test";
import { giveReadBuffer, takeReadBuffer } from "../../src/server/http/read-buffers.js";

test("a burst of one size keeps room in the pool for the others", () => {
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
  const large2 = Array.from({ length: 3 }, () => takeReadBuffer(8_000_000));
  assert.equal(large2.filter((b) => large.some((l) => l.buffer === b.buffer)).length, 2, "two 8 MiB kept");
});
