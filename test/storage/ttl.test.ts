import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EMPTY_TTL,
  formatTtl,
  parseTtl,
  TtlError,
  ttlFromBytes,
  ttlFromUint32,
  ttlMinutes,
  ttlSeconds,
  ttlToUint32,
} from "../../src/storage/needle/ttl.js";
import { vectors } from "./support.js";

interface TtlVector {
  input: string;
  count: number;
  unit: number;
  error: string;
  minutes: number;
  string: string;
  uint32: number;
  seconds: number;
}

for (const v of vectors<TtlVector[]>("ttl.json")) {
  test(`TTL ${JSON.stringify(v.input)} as Go's ReadTTL`, () => {
    if (v.error) {
      assert.throws(
        () => parseTtl(v.input),
        (e: unknown) => e instanceof TtlError && e.message === v.error,
      );
      return;
    }
    const ttl = parseTtl(v.input);
    assert.deepEqual({ count: ttl.count, unit: ttl.unit }, { count: v.count, unit: v.unit });
    assert.equal(ttlMinutes(ttl), v.minutes);
    assert.equal(ttlSeconds(ttl), v.seconds);
    assert.equal(formatTtl(ttl), v.string);
    assert.equal(ttlToUint32(ttl), v.uint32);
    assert.deepEqual(ttlFromUint32(ttlToUint32(ttl)), v.count === 0 ? EMPTY_TTL : ttl);
  });
}

test("TTL bytes: count then unit; 0,0 is no TTL; other units are kept but have no duration", () => {
  assert.equal(ttlFromBytes(new Uint8Array([0, 0])), EMPTY_TTL);
  assert.deepEqual(ttlFromBytes(new Uint8Array([3, 3])), { count: 3, unit: 3 });
  const odd = ttlFromBytes(new Uint8Array([5, 9]));
  assert.deepEqual(odd, { count: 5, unit: 9 });
  assert.equal(ttlMinutes(odd), 0);
  assert.equal(formatTtl(odd), "");
  assert.equal(formatTtl({ count: 0, unit: 3 }), "");
});
