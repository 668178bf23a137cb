// Generates TypeScript message codecs and gRPC service definitions from proto/*.proto
// into src/pb/ (not committed). buf compiles the schemas; ts-proto emits the code.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src", "pb");
const bin = (name) => join(root, "node_modules", ".bin", name);

const tsProtoOptions = [
  "outputServices=grpc-js",
  "env=node",
  "esModuleInterop=true",
  "forceLong=bigint",
  "importSuffix=.js",
  "useOptionals=none",
  "outputJsonMethods=false",
  "outputPartialMethods=true",
  "exportCommonSymbols=false",
].join(",");

const template = {
  version: "v2",
  plugins: [{ local: bin("protoc-gen-ts_proto"), out, opt: tsProtoOptions }],
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(bin("buf"), ["generate", "proto", "--template", JSON.stringify(template)], {
  cwd: root,
  stdio: "inherit",
});
