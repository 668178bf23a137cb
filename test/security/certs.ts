// A throwaway certificate authority for TLS tests, made with the openssl command line: one CA and
// leaf certificates for 127.0.0.1/localhost usable both as server and as client identities.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Leaf {
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** Writes ca.crt/ca.key into dir and returns the CA certificate's path. */
export function makeCa(dir: string): string {
  openssl(
    dir,
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca"].concat([
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    ]),
  );
  return join(dir, "ca.crt");
}

/** A leaf signed by the CA in dir, named <name>.crt/<name>.key, with the given common name. */
export function makeLeaf(dir: string, name: string, commonName: string): Leaf {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
  );
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${commonName}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  ]);
  openssl(
    dir,
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
    ].concat(["-extfile", ext, "-out", `${name}.crt`]),
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}
