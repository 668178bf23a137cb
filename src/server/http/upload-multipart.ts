// A multipart/form-data reader that finds parts and part ends exactly where Go's mime/multipart does
// and fails with the messages it fails with: weed takes its answers (which part is the file, what the
// 400 says) from that package. Bodies stream through a ByteQueue; part data is handed out as views.
//
// Go's rules kept here: preamble lines before the first delimiter are skipped; a delimiter line is
// "--boundary" plus optional blanks and a line end ("\n" alone switches the whole body to bare-LF
// mode); part data ends before "<nl>--boundary" followed by a blank, a line end, "--" or the end of
// the body; lines between parts are read through a 4096-byte window ("bufio: buffer full"); part
// headers follow textproto (folded lines, canonical keys, byte checks); a quoted-printable
// Content-Transfer-Encoding is decoded and the header removed.

import type { ByteQueue } from "./upload-body.js";
import {
  canonicalHeaderKey,
  GoError,
  goQuote,
  isTokenByte,
  type MediaType,
  parseMediaType,
  pathBase,
} from "./upload-go.js";
import { QuotedPrintable } from "./upload-qp.js";

const LINE_WINDOW = 4096; // Go's bufio.Reader size in mime/multipart
const MAX_HEADER_BYTES = 10 << 20;
const MAX_HEADERS = 10000;
const TOO_LARGE = "multipart: message too large";
const CR = 0x0d;
const LF = 0x0a;

/** Receives part data; returns false once it wants no more. */
export type DataSink = (data: Buffer) => boolean;

/** One part: its headers (canonical keys, byte-string values) and a one-shot reader of its data. */
export class Part {
  private readonly disposition: MediaType;
  private total = 0;
  private finished = false;
  private qp: QuotedPrintable | undefined;

  constructor(
    private readonly reader: MultipartReader,
    readonly header: Map<string, string[]>,
  ) {
    try {
      this.disposition = parseMediaType(this.get("Content-Disposition"));
    } catch {
      this.disposition = { type: "", params: new Map() };
    }
    const cte = "Content-Transfer-Encoding";
    if (this.get(cte).toLowerCase() === "quoted-printable") {
      header.delete(cte);
      this.qp = new QuotedPrintable();
    }
  }

  /** The first value of a header, by any spelling of its name (Go's Header.Get). */
  get(name: string): string {
    return this.header.get(canonicalHeaderKey(name))?.[0] ?? "";
  }

  /** The disposition's `name` when it is form-data (Go's Part.FormName). */
  formName(): string {
    return this.disposition.type === "form-data" ? (this.disposition.params.get("name") ?? "") : "";
  }

  /** The disposition's `filename`, last path element only (Go's Part.FileName); "" when none. */
  fileName(): string {
    const name = this.disposition.params.get("filename") ?? "";
    return name === "" ? "" : pathBase(name);
  }

  /** Streams the part's data into sink until the part ends or sink says stop. Throws GoError. */
  async read(sink: DataSink): Promise<void> {
    const qp = this.qp;
    const out: DataSink = qp ? (raw) => qp.push(raw, sink) : sink;
    let wanted = true;
    while (wanted && !this.finished) {
      const step = await this.reader.scan(this.total);
      if (step.data > 0) {
        for (const view of this.reader.queue.take(step.data)) {
          this.total += view.length;
          if (wanted) wanted = out(view);
        }
      }
      if (step.end === "boundary") this.finished = true;
      else if (step.end === "truncated") {
        if (!wanted) return;
        qp?.end(sink, false); // its last line may fail first, as Go decodes it before the read error
        throw new GoError("unexpected EOF");
      }
    }
    if (wanted && qp && this.finished) qp.end(sink, true);
  }

  /** Reads the rest of the part and drops it (Go's Part.Close; errors are ignored). */
  async drain(): Promise<void> {
    this.qp = undefined;
    try {
      await this.read(() => true);
    } catch {
      // Go ignores them here too: the next delimiter search reports what is wrong.
    }
  }
}

interface ScanStep {
  /** Bytes at the head of the queue that are part data. */
  data: number;
  /** After those bytes: the delimiter, the body's end (unexpected), or undecided yet. */
  end: "boundary" | "truncated" | undefined;
}

export class MultipartReader {
  private nl = Buffer.from("\r\n");
  private readonly dashBoundary: Buffer;
  private readonly dashBoundaryDash: Buffer;
  private nlDashBoundary: Buffer;
  private current: Part | undefined;
  private partsRead = 0;

  constructor(
    readonly queue: ByteQueue,
    boundary: string,
  ) {
    this.dashBoundary = Buffer.from(`--${boundary}`, "latin1");
    this.dashBoundaryDash = Buffer.from(`--${boundary}--`, "latin1");
    this.nlDashBoundary = Buffer.concat([this.nl, this.dashBoundary]);
  }

  /** The next part, or undefined after the final delimiter. Throws GoError with Go's message. */
  async nextPart(): Promise<Part | undefined> {
    if (this.current) await this.current.drain();
    this.current = undefined;
    if (this.dashBoundary.length === 2) throw new GoError("multipart: boundary is empty");
    let expectNewPart = false;
    for (;;) {
      const { line, error } = await this.readLine();
      if (error === "EOF" && this.isFinalBoundary(line)) return undefined;
      if (error) throw new GoError(`multipart: NextPart: ${error}`);
      if (this.isDelimiterLine(line)) {
        this.partsRead++;
        this.current = new Part(this, await this.readHeaders());
        return this.current;
      }
      if (this.isFinalBoundary(line)) return undefined;
      if (expectNewPart) throw new GoError(`multipart: expecting a new Part; got line ${goQuote(line)}`);
      if (this.partsRead === 0) continue; // preamble
      if (line.equals(this.nl)) {
        expectNewPart = true;
        continue;
      }
      throw new GoError(`multipart: unexpected line in Next(): ${goQuote(line)}`);
    }
  }

  /** A line through its "\n", read through Go's 4096-byte window. */
  private async readLine(): Promise<{ line: Buffer; error?: string }> {
    const q = this.queue;
    let searched = 0;
    for (;;) {
      const at = q.indexOf(NEWLINE, searched);
      if (at >= 0 && at < LINE_WINDOW) return { line: q.takeBytes(at + 1) };
      if (q.length >= LINE_WINDOW) return { line: q.takeBytes(LINE_WINDOW), error: "bufio: buffer full" };
      searched = q.length;
      if (!(await q.pull())) return { line: q.takeBytes(q.length), error: "EOF" };
    }
  }

  private static skipBlanks(b: Buffer, from: number): Buffer {
    while (from < b.length && (b[from] === 0x20 || b[from] === 0x09)) from++;
    return b.subarray(from);
  }

  private isFinalBoundary(line: Buffer): boolean {
    if (!startsWith(line, this.dashBoundaryDash)) return false;
    const rest = MultipartReader.skipBlanks(line, this.dashBoundaryDash.length);
    return rest.length === 0 || rest.equals(this.nl);
  }

  private isDelimiterLine(line: Buffer): boolean {
    if (!startsWith(line, this.dashBoundary)) return false;
    const rest = MultipartReader.skipBlanks(line, this.dashBoundary.length);
    if (this.partsRead === 0 && rest.length === 1 && rest[0] === LF) {
      this.nl = this.nl.subarray(1);
      this.nlDashBoundary = this.nlDashBoundary.subarray(1);
    }
    return rest.equals(this.nl);
  }

  /** How much of the queue's head is data of the current part (Go's scanUntilBoundary). */
  async scan(partTotal: number): Promise<ScanStep> {
    const q = this.queue;
    for (;;) {
      const step = this.scanBuffered(partTotal);
      if (step) return step;
      await q.pull();
    }
  }

  /** One decision over what is buffered; undefined means: read more first. */
  private scanBuffered(partTotal: number): ScanStep | undefined {
    const q = this.queue;
    const eof = q.ended;
    const dash = this.dashBoundary;
    const nlDash = this.nlDashBoundary;
    if (partTotal === 0) {
      // At the very start of the data a delimiter needs no line break before it.
      if (q.length >= dash.length && q.agrees(dash)) {
        const m = this.matchAfter(dash.length);
        if (m < 0) return { data: dash.length, end: undefined };
        if (m === 0) return undefined;
        return { data: 0, end: "boundary" };
      }
      if (q.length < dash.length && q.agrees(dash)) return eof ? { data: 0, end: "truncated" } : undefined;
    }
    const at = q.indexOf(nlDash);
    if (at >= 0) {
      const m = this.matchAfter(at + nlDash.length);
      if (m < 0) return { data: at + nlDash.length, end: undefined };
      if (m > 0) return { data: at, end: "boundary" };
      return at > 0 ? { data: at, end: undefined } : undefined;
    }
    if (q.length <= nlDash.length && q.agrees(nlDash)) return eof ? { data: 0, end: "truncated" } : undefined;
    // Everything before a trailing start of "<nl>--boundary" is data.
    const last = q.lastIndexOfByte(nlDash[0]!, Math.max(0, q.length - nlDash.length));
    if (last >= 0 && q.agrees(nlDash, last)) return last > 0 ? { data: last, end: undefined } : undefined;
    if (eof) return { data: q.length, end: "truncated" };
    return q.length > 0 ? { data: q.length, end: undefined } : undefined;
  }

  /** After a delimiter candidate ending at `at`: +1 it is one, -1 it is not, 0 undecided. */
  private matchAfter(at: number): number {
    const q = this.queue;
    if (q.length === at) return q.ended ? 1 : 0;
    const c = q.byteAt(at);
    if (c === 0x20 || c === 0x09 || c === CR || c === LF) return 1;
    if (c === 0x2d) {
      if (q.length === at + 1) return q.ended ? -1 : 0;
      if (q.byteAt(at + 1) === 0x2d) return 1;
    }
    return -1;
  }

  // ---- part headers (Go's textproto.ReadMIMEHeader) ----

  /** One header line without its line end; undefined at the end of the body. */
  private async headerLine(budget: number): Promise<Buffer | undefined> {
    const q = this.queue;
    let searched = 0;
    for (;;) {
      const at = q.indexOf(NEWLINE, searched);
      if (at >= 0) {
        if (at > budget) throw new GoError(TOO_LARGE);
        const line = q.takeBytes(at + 1);
        const end = line.length >= 2 && line[line.length - 2] === CR ? line.length - 2 : line.length - 1;
        return line.subarray(0, end);
      }
      if (q.length > budget) throw new GoError(TOO_LARGE);
      searched = q.length;
      if (!(await q.pull())) return q.length > 0 ? q.takeBytes(q.length) : undefined;
    }
  }

  private async readHeaders(): Promise<Map<string, string[]>> {
    const header = new Map<string, string[]>();
    const q = this.queue;
    let budget = MAX_HEADER_BYTES;
    let count = 0;
    await q.fill(1);
    const first = q.byteAt(0);
    if (first === 0x20 || first === 0x09) {
      const line = await this.headerLine(80);
      throw new GoError(`malformed MIME header initial line: ${goQuote(line ?? Buffer.alloc(0))}`);
    }
    for (;;) {
      const line = await this.headerLine(budget);
      if (line === undefined) throw new GoError("EOF");
      if (line.length === 0) return header;
      if (!line.includes(0x3a)) throw new GoError(`malformed MIME header: missing colon: ${goQuote(line)}`);
      let kv = trimBlanks(line).toString("latin1");
      // Folded continuation lines start with blanks; they join with one space.
      while ((await q.fill(1)) && (q.byteAt(0) === 0x20 || q.byteAt(0) === 0x09)) {
        let blanks = 0;
        while ((await q.fill(blanks + 1)) && (q.byteAt(blanks) === 0x20 || q.byteAt(blanks) === 0x09))
          blanks++;
        q.skip(blanks);
        const more = await this.headerLine(budget - kv.length);
        kv += ` ${more ? trimBlanks(more).toString("latin1") : ""}`;
        if (more === undefined) break;
      }
      const colon = kv.indexOf(":");
      const rawKey = kv.slice(0, colon);
      const value = kv.slice(colon + 1);
      const key = headerKey(rawKey);
      if (key === undefined) throw new GoError(`malformed MIME header line: ${goQuote(kv)}`);
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        // Go quotes the line with its key already put in canonical form here.
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
          throw new GoError(`malformed MIME header line: ${goQuote(`${key}:${value}`)}`);
        }
      }
      if (++count > MAX_HEADERS) throw new GoError(TOO_LARGE);
      const trimmed = value.replace(/^[ \t]+/, "");
      const values = header.get(key);
      budget -= trimmed.length + (values ? 0 : key.length + 200);
      if (budget < 0) throw new GoError(TOO_LARGE);
      if (values) values.push(trimmed);
      else header.set(key, [trimmed]);
    }
  }
}

const NEWLINE = Buffer.from("\n");

function startsWith(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && b.subarray(0, prefix.length).equals(prefix);
}

function trimBlanks(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && (b[s] === 0x20 || b[s] === 0x09)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
  return b.subarray(s, e);
}

/** Canonical key; a key with a space is kept as sent; undefined for an empty or invalid one. */
function headerKey(raw: string): string | undefined {
  if (raw === "") return undefined;
  let spaced = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x20) spaced = true;
    else if (!isTokenByte(c)) return undefined;
  }
  return spaced ? raw : canonicalHeaderKey(raw);
}
