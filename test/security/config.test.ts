import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { configBool, configInt, configString, loadSecurityConfig } from "../../src/security/config.js";

test("security.toml is read from --securityFile, else from -config_dir first", () => {
  const dir = mkdtempSync(join(tmpdir(), "wv-sec-"));
  try {
    const configDir = join(dir, "conf");
    mkdirSync(configDir);
    writeFileSync(
      join(configDir, "security.toml"),
      '[jwt.signing]\nkey = "k1"\nexpires_after_seconds = 60\n[jwt.signing.read]\nkey = "r"\n[access]\nui = true\n',
    );
    const c = loadSecurityConfig("", configDir);
    assert.equal(c.path, join(configDir, "security.toml"));
    assert.equal(configString(c, "jwt.signing.key"), "k1");
    assert.equal(configString(c, "jwt.signing.read.key"), "r");
    assert.equal(configInt(c, "jwt.signing.expires_after_seconds", 10), 60);
    assert.equal(configInt(c, "jwt.signing.read.expires_after_seconds", 60), 60);
    assert.equal(configBool(c, "access.ui"), true);
    assert.equal(configString(c, "https.volume.cert"), "");

    const explicit = join(dir, "other.toml");
    writeFileSync(explicit, '[jwt.signing]\nkey = "k2"\n');
    assert.equal(configString(loadSecurityConfig(explicit, configDir), "jwt.signing.key"), "k2");
    assert.throws(() => loadSecurityConfig(join(dir, "missing.toml"), ""), /not found/);
    writeFileSync(explicit, "[broken\n");
    assert.throws(() => loadSecurityConfig(explicit, ""), /reading .*other\.toml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
