import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { SignJWT } from "jose";
import { signFileIdToken, tokenFromRequest, verifyFileIdToken } from "../../src/security/jwt.js";

const key = "volume-server-write-key";

test("a token names exactly one file id and must be signed with the key", async () => {
  const token = await signFileIdToken(key, 60, "3,01637037d6");
  assert.equal(await verifyFileIdToken(key, token, "3", "01637037d6"), true);
  assert.equal(await verifyFileIdToken(key, token, "3", "01637037d6_1"), true, "suffix after _ is ignored");
  assert.equal(await verifyFileIdToken(key, token, "3", "01637037d7"), false, "another cookie");
  assert.equal(await verifyFileIdToken(key, token, "4", "01637037d6"), false, "another volume");
  assert.equal(await verifyFileIdToken("other-key", token, "3", "01637037d6"), false);
  assert.equal(await verifyFileIdToken(key, "", "3", "01637037d6"), false);
  assert.equal(await verifyFileIdToken(key, "garbage", "3", "01637037d6"), false);
});

test("expired and not-yet-valid tokens are refused; HS512 is accepted", async () => {
  const bytes = new TextEncoder().encode(key);
  const expired = await new SignJWT({ fid: "3,01637037d6" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
    .sign(bytes);
  assert.equal(await verifyFileIdToken(key, expired, "3", "01637037d6"), false);
  const early = await new SignJWT({ fid: "3,01637037d6" })
    .setProtectedHeader({ alg: "HS256" })
    .setNotBefore(Math.floor(Date.now() / 1000) + 600)
    .sign(bytes);
  assert.equal(await verifyFileIdToken(key, early, "3", "01637037d6"), false);
  const hs512 = await new SignJWT({ fid: "3,01637037d6" }).setProtectedHeader({ alg: "HS512" }).sign(bytes);
  assert.equal(await verifyFileIdToken(key, hs512, "3", "01637037d6"), true);
});

test("the token comes from ?jwt=, then the Bearer header, then the AT cookie", () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const none = new URLSearchParams();
  assert.equal(tokenFromRequest(req({ authorization: "Bearer h" }), new URLSearchParams("jwt=q")), "q");
  assert.equal(tokenFromRequest(req({ authorization: "bearer h", cookie: "AT=c" }), none), "h");
  assert.equal(tokenFromRequest(req({ cookie: "x=1; AT=c" }), none), "c");
  assert.equal(tokenFromRequest(req({ authorization: "Basic abc" }), none), "");
});
