// Shared by the parser property tests: how many runs, and the one property every parser has —
// whatever the input, it either answers or throws one of its own error classes, never a TypeError or
// RangeError from a read past the end or an undefined field.

import assert from "node:assert/strict";
import fc from "fast-check";

/** fast-check runs per property: ~200 in `npm test`, more with FUZZ_RUNS=N. */
export const RUNS = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? "200") || 200);

// biome-ignore lint/suspicious/noExplicitAny: error classes of any constructor shape
type ErrorClass = abstract new (...args: any[]) => Error;

/** Runs `f`; when it throws, the error must be an instance of one of `allowed`. */
export function onlyOwnErrors<T>(f: () => T, allowed: ErrorClass[]): T | undefined {
  try {
    return f();
  } catch (err) {
    assertOwnError(err, allowed);
    return undefined;
  }
}

export async function onlyOwnErrorsAsync<T>(
  f: () => Promise<T>,
  allowed: ErrorClass[],
): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    assertOwnError(err, allowed);
    return undefined;
  }
}

function assertOwnError(err: unknown, allowed: ErrorClass[]): void {
  assert.ok(
    err instanceof Error &&
      allowed.some((c) => err instanceof c) &&
      !(err instanceof TypeError || err instanceof RangeError),
    `unexpected ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`,
  );
  assert.ok(err.message.length > 0, `${err.name} without a message`);
}

/** fc.record with ordinary objects (its default null-prototype ones never deep-equal a parse). */
export function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}
