// Checks that our proto/*.proto schemas agree with the pinned SeaweedFS release on everything that
// decides wire and JSON compatibility. Both sides are compiled by buf into FileDescriptorSets (JSON),
// then every message, enum and service we declare is compared with the reference declaration of the
// same full name. Exit 0 when they agree (or when the reference cannot be found), 1 on any mismatch,
// 2 when either side fails to compile.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const MODULE = "github.com/seaweedfs/seaweedfs";
const VERSION = "v0.0.0-20261109003541-7506e5f91cd6";
const FILES = ["remote.proto", "volume_server.proto", "master.proto"];
const VOLUME_SERVER_SERVICE = "volume_server_pb.VolumeServer";
const VOLUME_SERVER_METHODS = 49;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const buf = join(root, "node_modules", ".bin", "buf");
// Our schemas; another directory may be given as the first argument (handy to test the checker).
const oursDir = resolve(process.argv[2] ?? join(root, "proto"));

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const hasSchemas = (dir) => FILES.every((f) => existsSync(join(dir, f)));

// weed/pb of the pinned module: from the module cache, else downloaded through the Go toolchain.
function referenceDir(scratch) {
  try {
    const cached = join(run("go", ["env", "GOMODCACHE"], scratch), `${MODULE}@${VERSION}`, "weed", "pb");
    if (hasSchemas(cached)) return cached;
  } catch {
    // no Go toolchain; try the download below, which fails the same way
  }
  try {
    const info = JSON.parse(run("go", ["mod", "download", "-json", `${MODULE}@${VERSION}`], scratch));
    const dir = info.Dir ? join(info.Dir, "weed", "pb") : "";
    if (dir && hasSchemas(dir)) return dir;
  } catch {
    // fall through to skip
  }
  return null;
}

function build(dir, out) {
  const args = ["build", dir];
  for (const f of FILES) args.push("--path", join(dir, f));
  args.push("-o", out);
  run(buf, args, root);
  return JSON.parse(readFileSync(out, "utf8"));
}

// Flattens a FileDescriptorSet into maps keyed by full name ("pkg.Outer.Inner").
function index(set) {
  const messages = new Map();
  const enums = new Map();
  const services = new Map();
  const addEnums = (prefix, list, file) => {
    for (const e of list ?? []) enums.set(`${prefix}.${e.name}`, { ...e, file });
  };
  const addMessages = (prefix, list, file) => {
    for (const m of list ?? []) {
      const name = `${prefix}.${m.name}`;
      messages.set(name, { ...m, file });
      addMessages(name, m.nestedType, file);
      addEnums(name, m.enumType, file);
    }
  };
  const files = new Map();
  for (const file of set.file ?? []) {
    files.set(file.name, file);
    const pkg = file.package ?? "";
    addMessages(pkg, file.messageType, file.name);
    addEnums(pkg, file.enumType, file.name);
    for (const s of file.service ?? []) services.set(`${pkg}.${s.name}`, { ...s, file: file.name });
  }
  return { files, messages, enums, services };
}

const mismatches = [];
const report = (what, msg) => mismatches.push(`${what}: ${msg}`);
const show = (v) => (v === undefined ? "(unset)" : JSON.stringify(v));

// Everything about a field that changes its encoding, its JSON form or the generated code.
function fieldShape(msg, f) {
  return {
    name: f.name,
    type: f.type,
    typeName: f.typeName,
    label: f.label,
    proto3Optional: f.proto3Optional ?? false,
    oneofIndex: f.oneofIndex,
    oneof: f.oneofIndex === undefined ? undefined : msg.oneofDecl?.[f.oneofIndex]?.name,
    jsonName: f.jsonName,
  };
}

function compareMessage(name, ours, ref) {
  if ((ours.options?.mapEntry ?? false) !== (ref.options?.mapEntry ?? false)) {
    report(name, `map_entry ${show(ours.options?.mapEntry)} vs reference ${show(ref.options?.mapEntry)}`);
  }
  const refFields = new Map((ref.field ?? []).map((f) => [f.number, f]));
  const ourNumbers = new Set();
  for (const f of ours.field ?? []) {
    ourNumbers.add(f.number);
    const r = refFields.get(f.number);
    if (!r) {
      report(name, `field ${f.name} = ${f.number} not in reference`);
      continue;
    }
    const a = fieldShape(ours, f);
    const b = fieldShape(ref, r);
    for (const key of Object.keys(a)) {
      if (a[key] !== b[key]) {
        report(`${name}.${f.name}`, `${key} ${show(a[key])} vs reference ${show(b[key])}`);
      }
    }
  }
  for (const r of ref.field ?? []) {
    if (!ourNumbers.has(r.number)) report(name, `missing field ${r.name} = ${r.number}`);
  }
}

function compareEnum(name, ours, ref) {
  const refValues = new Map((ref.value ?? []).map((v) => [v.name, v.number ?? 0]));
  const ourNames = new Set();
  for (const v of ours.value ?? []) {
    ourNames.add(v.name);
    const n = refValues.get(v.name);
    if (n === undefined) report(name, `value ${v.name} not in reference`);
    else if (n !== (v.number ?? 0)) report(`${name}.${v.name}`, `number ${v.number ?? 0} vs reference ${n}`);
  }
  for (const [v, n] of refValues) if (!ourNames.has(v)) report(name, `missing value ${v} = ${n}`);
}

function compareService(name, ours, ref) {
  const refMethods = new Map((ref.method ?? []).map((m) => [m.name, m]));
  for (const m of ours.method ?? []) {
    const r = refMethods.get(m.name);
    if (!r) {
      report(name, `method ${m.name} not in reference`);
      continue;
    }
    for (const key of ["inputType", "outputType", "clientStreaming", "serverStreaming"]) {
      const a = m[key] ?? false;
      const b = r[key] ?? false;
      if (a !== b) report(`${name}.${m.name}`, `${key} ${show(a)} vs reference ${show(b)}`);
    }
  }
  if (name === VOLUME_SERVER_SERVICE) {
    const ourNames = new Set((ours.method ?? []).map((m) => m.name));
    for (const m of refMethods.keys()) if (!ourNames.has(m)) report(name, `missing method ${m}`);
    if (ourNames.size !== VOLUME_SERVER_METHODS) {
      report(name, `${ourNames.size} methods, expected ${VOLUME_SERVER_METHODS}`);
    }
    if (refMethods.size !== VOLUME_SERVER_METHODS) {
      report(name, `reference has ${refMethods.size} methods, expected ${VOLUME_SERVER_METHODS}`);
    }
  }
}

function compareFiles(ours, ref) {
  for (const fileName of FILES) {
    const a = ours.files.get(fileName);
    const b = ref.files.get(fileName);
    if (!a || !b) {
      report(fileName, `file missing (${a ? "reference" : "ours"})`);
      continue;
    }
    if ((a.package ?? "") !== (b.package ?? "")) report(fileName, `package ${a.package} vs ${b.package}`);
    if ((a.syntax ?? "proto2") !== (b.syntax ?? "proto2")) {
      report(fileName, `syntax ${a.syntax} vs ${b.syntax}`);
    }
  }
}

// Returns the counts of what was compared, or null when the reference is not available.
function check(scratch) {
  const refDir = referenceDir(scratch);
  if (!refDir) return null;
  // buf sees only the three reference files, not the rest of weed/pb.
  const refCopy = join(scratch, "ref");
  mkdirSync(refCopy);
  for (const f of FILES) copyFileSync(join(refDir, f), join(refCopy, f));
  const ref = index(build(refCopy, join(scratch, "ref.json")));
  const ours = index(build(oursDir, join(scratch, "ours.json")));

  const counts = { messages: 0, enums: 0, methods: 0 };
  const missing = (kind, name) => report(name, `${kind} not in reference`);
  compareFiles(ours, ref);
  for (const [name, m] of ours.messages) {
    counts.messages++;
    const r = ref.messages.get(name);
    if (r) compareMessage(name, m, r);
    else missing("message", name);
  }
  for (const [name, e] of ours.enums) {
    counts.enums++;
    const r = ref.enums.get(name);
    if (r) compareEnum(name, e, r);
    else missing("enum", name);
  }
  if (!ours.services.has(VOLUME_SERVER_SERVICE)) report(VOLUME_SERVER_SERVICE, "service missing");
  for (const [name, s] of ours.services) {
    counts.methods += s.method?.length ?? 0;
    const r = ref.services.get(name);
    if (r) compareService(name, s, r);
    else missing("service", name);
  }
  return counts;
}

const scratch = mkdtempSync(join(tmpdir(), "proto-compat-"));
let counts;
try {
  counts = check(scratch);
} catch (err) {
  console.error(`proto-compat: ${String(err.stderr || err.message).trim()}`);
  process.exitCode = 2;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (counts === null) {
  console.log("skip: reference not available");
} else if (counts !== undefined) {
  for (const line of mismatches) console.log(line);
  console.log(
    `proto-compat: ${counts.messages} messages, ${counts.enums} enums, ${counts.methods} methods checked, ` +
      `${mismatches.length} mismatches`,
  );
  process.exitCode = mismatches.length > 0 ? 1 : 0;
}
