// Query (weed's volume_grpc_query.go): runs a filter and projection over JSON-lines needles and
// streams one stripe of records per file. CSV input is accepted and yields nothing, as in weed;
// a cookie that does not match ends the stream quietly.

import { type ServerWritableStream, status } from "@grpc/grpc-js";
import { QueriedStripe, type QueryRequest, type VolumeServerServer } from "../../pb/volume_server.js";
import { queryJsonLines } from "../../query/json-lines.js";
import { parseNeedlePath, parseVolumeId } from "../../storage/needle/file-id.js";
import { VolumeError } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { failed } from "./call.js";
import { send, serverStream } from "./streaming.js";

async function query(
  ctx: ServerContext,
  call: ServerWritableStream<QueryRequest, QueriedStripe>,
): Promise<void> {
  const req = call.request;
  for (const fid of req.fromFileIds) {
    const comma = fid.indexOf(",");
    if (comma <= 0) throw new Error("Wrong fid format.");
    let volumeId = 0;
    try {
      volumeId = parseVolumeId(fid.slice(0, comma));
    } catch {
      // weed ignores a bad volume id here and looks for volume 0.
    }
    const key = parseNeedlePath(fid.slice(comma + 1));
    const v = ctx.store.findVolume(volumeId);
    if (!v) throw new Error(`volume ${volumeId} not found`);
    let data: Buffer;
    try {
      const n = v.read(key.keyHi, key.keyLo);
      if (n.cookie !== key.cookie) return;
      data = n.data;
    } catch (err) {
      if (err instanceof VolumeError && err.kind === "not-found") throw failed(status.UNKNOWN, "not found");
      throw err;
    }
    if (!req.inputSerialization?.jsonInput) continue;
    const filter = req.filter ?? { field: "", operand: "", value: "" };
    const records = queryJsonLines(data.toString("utf8"), req.selections, {
      field: filter.field,
      op: filter.operand,
      value: filter.value,
    });
    await send(call, QueriedStripe.create({ records: Buffer.from(records, "utf8") }));
  }
}

export function queryService(ctx: ServerContext): Pick<VolumeServerServer, "query"> {
  return { query: serverStream((call) => query(ctx, call)) };
}
