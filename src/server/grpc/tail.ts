// Tailing a volume (weed's volume_grpc_tail.go): the sender streams every record appended after a
// time, polling every 2 s, until nothing new came for the idle timeout; the receiver tails a
// peer's copy of a volume and appends what it gets to its own.

import { type ServerWritableStream, status } from "@grpc/grpc-js";
import {
  type VolumeServerServer,
  VolumeTailReceiverResponse,
  type VolumeTailSenderRequest,
  VolumeTailSenderResponse,
} from "../../pb/volume_server.js";
import { validateReplicaTarget } from "../../security/endpoints.js";
import { parseNeedle } from "../../storage/needle/needle.js";
import { NEEDLE_HEADER_SIZE, type Version } from "../../storage/types.js";
import { firstOffsetAfter, records } from "../../storage/volume/scan.js";
import type { Volume } from "../../storage/volume/volume.js";
import type { ServerContext } from "../context.js";
import { checkAdminAuth, failed, unary } from "./call.js";
import { COPY_CHUNK } from "./copy.js";
import { goRpcErrorText } from "./go-errors.js";
import { receive, send, serverStream } from "./streaming.js";

const POLL_MS = 2000;

/** Sends the records appended after `sinceNs`; returns the append time of the last one sent. */
async function sendSince(
  call: ServerWritableStream<VolumeTailSenderRequest, VolumeTailSenderResponse>,
  v: Volume,
  sinceNs: bigint,
): Promise<bigint> {
  const version = v.version;
  const from = firstOffsetAfter(v, sinceNs);
  if (from === undefined) {
    // Nothing new: a heartbeat keeps the follower's connection alive.
    await send(call, VolumeTailSenderResponse.create({ isLastChunk: true, version }));
    return sinceNs;
  }
  let last = sinceNs;
  for (const record of records(v, from)) {
    const blob = v.readData(record.offset, 0, record.length);
    const header = blob.subarray(0, NEEDLE_HEADER_SIZE);
    const body = blob.subarray(NEEDLE_HEADER_SIZE);
    // Large bodies go in 2 MiB pieces; the last piece says so.
    for (let at = 0; at < body.length; at += COPY_CHUNK) {
      const end = Math.min(body.length, at + COPY_CHUNK);
      await send(
        call,
        VolumeTailSenderResponse.create({
          needleHeader: header,
          needleBody: body.subarray(at, end),
          isLastChunk: end === body.length,
          version,
        }),
      );
    }
    if (version === 3) last = blob.readBigUInt64BE(NEEDLE_HEADER_SIZE + Math.max(0, record.size) + 4);
  }
  return last;
}

async function tailSender(
  ctx: ServerContext,
  call: ServerWritableStream<VolumeTailSenderRequest, VolumeTailSenderResponse>,
): Promise<void> {
  const { volumeId, sinceNs, idleTimeoutSeconds } = call.request;
  const v = ctx.store.findVolume(volumeId);
  if (!v) throw new Error(`not found volume id ${volumeId}`);
  let since = sinceNs;
  let draining = idleTimeoutSeconds;
  for (;;) {
    let processed: bigint;
    try {
      processed = await sendSince(call, v, since);
    } catch (err) {
      throw new Error(`streamFollow: ${(err as Error).message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (call.cancelled) return;
    if (idleTimeoutSeconds === 0) {
      since = processed;
      continue;
    }
    // weed counts each idle poll as one second of the timeout.
    if (processed === since) {
      draining--;
      if (draining <= 0) return;
    } else {
      since = processed;
      draining = idleTimeoutSeconds;
    }
  }
}

/** Follows the source's tail and appends each record it sends to the local volume. */
async function tailReceiver(ctx: ServerContext, v: Volume, source: string, sinceNs: bigint, idle: number) {
  const client = ctx.peers.volumeServer(source);
  const stream = client.volumeTailSender({ volumeId: v.id, sinceNs, idleTimeoutSeconds: idle });
  let header: Buffer | undefined;
  let body: Buffer[] = [];
  let version: Version = 3;
  for await (const frame of receive(stream)) {
    if (frame.needleHeader.length === 0) continue;
    if (!header) {
      header = frame.needleHeader;
      version = (frame.version || 3) as Version;
    }
    body.push(frame.needleBody);
    if (!frame.isLastChunk) continue;
    const n = parseNeedle(Buffer.concat([header, ...body]), version);
    header = undefined;
    body = [];
    if (n.size === 0) {
      // A record without data is the source's delete tombstone; deleting here keeps the follower's
      // view the source's, as an index rebuild from the .dat would read it.
      await v.deleteQueued(n.keyHi, n.keyLo, n.cookie);
      continue;
    }
    await v.writeQueued(n, { checkCookie: false });
  }
}

export function tailService(
  ctx: ServerContext,
): Pick<VolumeServerServer, "volumeTailSender" | "volumeTailReceiver"> {
  return {
    volumeTailSender: serverStream((call) => tailSender(ctx, call)),
    volumeTailReceiver: unary(async (call) => {
      checkAdminAuth(ctx, call);
      const { volumeId, sourceVolumeServer, sinceNs, idleTimeoutSeconds } = call.request;
      if (!ctx.options.allowUntrustedRemoteEndpoints) {
        await validateReplicaTarget(sourceVolumeServer).catch((err: Error) => {
          throw new Error(`invalid source volume server ${sourceVolumeServer}: ${err.message}`);
        });
      }
      const v = ctx.store.findVolume(volumeId);
      if (!v) throw new Error(`receiver not found volume id ${volumeId}`);
      try {
        await tailReceiver(ctx, v, sourceVolumeServer, sinceNs, idleTimeoutSeconds);
      } catch (err) {
        throw failed(status.UNKNOWN, goRpcErrorText(err));
      }
      return VolumeTailReceiverResponse.create();
    }),
  };
}
