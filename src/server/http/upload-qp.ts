// Go's mime/quotedprintable reading, for a multipart part sent with Content-Transfer-Encoding:
// quoted-printable (Go's multipart reader decodes those parts and hides the header).

import { GoError, goQuote } from "./upload-go.js";

/** Receives decoded bytes; returns false once it wants no more. */
type DataSink = (data: Buffer) => boolean;

const LINE_WINDOW = 4096; // Go's bufio.Reader size: a longer line fails
const CR = 0x0d;
const LF = 0x0a;

/**
 * Quoted-printable decoding as Go's mime/quotedprintable reads it: line by line (4096-byte lines at
 * most), "=XX" and soft line breaks ("=" at a line end, also before a bare LF), a lone "=" not before
 * a line end kept literally, trailing blanks of a line dropped.
 */
export class QuotedPrintable {
  private line: Buffer[] = [];
  private lineLength = 0;

  push(raw: Buffer, sink: DataSink): boolean {
    let from = 0;
    while (from < raw.length) {
      const nl = raw.indexOf(LF, from);
      const room = LINE_WINDOW - this.lineLength;
      const end = nl < 0 ? raw.length : nl + 1;
      if (end - from > room) {
        this.line.push(raw.subarray(from, from + room));
        this.decodeLine(sink, false);
        throw new GoError("bufio: buffer full");
      }
      this.line.push(raw.subarray(from, end));
      this.lineLength += end - from;
      from = end;
      if (nl >= 0 && !this.decodeLine(sink, false)) return false;
    }
    return true;
  }

  /** The last line, which has no line end; `cleanEnd` when the data ended normally. */
  end(sink: DataSink, cleanEnd: boolean): void {
    if (this.lineLength > 0) this.decodeLine(sink, cleanEnd);
  }

  private decodeLine(sink: DataSink, atEof: boolean): boolean {
    const whole = Buffer.concat(this.line);
    this.line = [];
    this.lineLength = 0;
    let end = whole.length;
    while (end > 0 && [LF, CR, 0x20, 0x09].includes(whole[end - 1]!)) end--;
    let text = whole.subarray(0, end);
    const hasLf = whole[whole.length - 1] === LF;
    let after: Buffer = Buffer.alloc(0);
    if (text[text.length - 1] === 0x3d) {
      let skip = end;
      while (whole[skip] === 0x20 || whole[skip] === 0x09) skip++;
      const rest = whole.subarray(skip);
      text = text.subarray(0, text.length - 1);
      const breaks = rest[0] === LF || (rest[0] === CR && rest[1] === LF);
      if (!breaks && !(rest.length === 0 && text.length > 0 && atEof)) {
        const bad = `quotedprintable: invalid bytes after =: ${goQuote(rest)}`;
        this.emit(text, sink);
        throw new GoError(bad);
      }
    } else if (hasLf) {
      after = whole[whole.length - 2] === CR ? Buffer.from("\r\n") : Buffer.from("\n");
    }
    return this.emit(Buffer.concat([text, after]), sink);
  }

  private emit(line: Buffer, sink: DataSink): boolean {
    const out = Buffer.allocUnsafe(line.length);
    let n = 0;
    for (let i = 0; i < line.length; i++) {
      const b = line[i]!;
      if (b === 0x3d) {
        const hex = hexByte(line, i + 1);
        if (typeof hex === "number") {
          out[n++] = hex;
          i += 2;
          continue;
        }
        if (line.length - i >= 2 && line[i + 1] !== CR && line[i + 1] !== LF) {
          out[n++] = b; // "=" not followed by two hex digits: a literal
          continue;
        }
        sink(out.subarray(0, n));
        throw new GoError(hex);
      }
      if (b === 0x09 || b === CR || b === LF || b >= 0x80 || (b >= 0x20 && b <= 0x7e)) {
        out[n++] = b;
        continue;
      }
      sink(out.subarray(0, n));
      throw new GoError(
        `quotedprintable: invalid unescaped byte 0x${b.toString(16).padStart(2, "0")} in body`,
      );
    }
    return n === 0 ? true : sink(out.subarray(0, n));
  }
}

/** The byte of two hex digits at line[at], or Go's error message for them. */
function hexByte(line: Buffer, at: number): number | string {
  if (line.length - at < 2) return "unexpected EOF";
  const hi = hexValue(line[at]!);
  if (hi === undefined)
    return `quotedprintable: invalid hex byte 0x${line[at]!.toString(16).padStart(2, "0")}`;
  const lo = hexValue(line[at + 1]!);
  if (lo === undefined)
    return `quotedprintable: invalid hex byte 0x${line[at + 1]!.toString(16).padStart(2, "0")}`;
  return (hi << 4) | lo;
}

function hexValue(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return undefined;
}
