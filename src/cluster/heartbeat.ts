// The heartbeat stream to the master (master_pb.Seaweed/SendHeartbeat). It connects to the seed
// masters in turn, follows a follower's pointer to the leader, sends the full state first and then
// every pulse, sends deltas as they happen, and on shutdown sends an empty beat so the master drops
// this server at once.

import {
  type ChannelCredentials,
  type ClientDuplexStream,
  credentials as grpcCredentials,
} from "@grpc/grpc-js";
import { type Heartbeat, type HeartbeatResponse, SeaweedClient } from "../pb/master.js";
import { log } from "../util/log.js";
import { sameServer, toGrpcAddress } from "./server-address.js";

/** weed's pulse: a full heartbeat every 5 s, the EC shard list every 17 pulses. */
export const PULSE_MS = 5000;
const EC_PULSES = 17;
const RECONNECT_MS = 1000;
const LEADER_HINT_DELAY_MS = 3000;

export interface HeartbeatSource {
  /** Identity, capacities and the full volume list. */
  fullHeartbeat(): Heartbeat;
  /** The full EC shard list. */
  ecHeartbeat(): Heartbeat;
  /** The empty beat sent on shutdown: identity only, no volumes. */
  goodbyeHeartbeat(): Heartbeat;
  /** Applies what a master said (volume size limit, preallocate, storage backends...). */
  onResponse(response: HeartbeatResponse, master: string): void;
  /** A master accepted our heartbeat. */
  onRegistered(master: string): void;
  /** The stream to a master ended. */
  onDisconnected(master: string): void;
}

const CLIENT_OPTIONS = {
  "grpc.max_receive_message_length": 1 << 30,
  "grpc.max_send_message_length": 1 << 30,
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
};

interface Session {
  stream: ClientDuplexStream<Heartbeat, HeartbeatResponse>;
  master: string;
}

export class MasterHeartbeat {
  private stopped = false;
  private session: Session | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly masters: string[],
    private readonly source: HeartbeatSource,
    private readonly credentials: ChannelCredentials = grpcCredentials.createInsecure(),
    private readonly pulseMs = PULSE_MS,
  ) {}

  start(): void {
    if (this.masters.length === 0) {
      log.warn("volume server has no master nodes to heartbeat to; heartbeats disabled");
      return;
    }
    log.info(`volume server start with seed master nodes: [${this.masters.join(" ")}]`);
    this.loop = this.run();
  }

  /** Sends a delta beat (new or deleted volumes, a state change) now, if connected. */
  send(beat: Heartbeat): void {
    this.session?.stream.write(beat);
  }

  /** Deregisters from the connected master, then ends the stream and the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    const session = this.session;
    if (session) {
      // Half-close after the goodbye beat; the master answers by closing its side.
      await new Promise<void>((resolve) => {
        session.stream.once("status", () => resolve());
        session.stream.once("close", () => resolve());
        setTimeout(resolve, 1000).unref();
        session.stream.write(this.source.goodbyeHeartbeat());
        session.stream.end();
      });
    }
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      for (const seed of this.masters) {
        let target = seed;
        while (target !== "" && !this.stopped) {
          const leader = await this.connect(target);
          target = "";
          if (leader !== "" && !this.stopped) {
            // A follower named the leader; it may be electing itself, so give it a moment.
            await this.sleep(LEADER_HINT_DELAY_MS);
            target = leader;
          } else {
            await this.sleep(RECONNECT_MS);
          }
        }
        if (this.stopped) break;
      }
    }
  }

  /** One heartbeat stream to `master`; resolves with the leader a follower named, or "". */
  private connect(master: string): Promise<string> {
    return new Promise((resolve) => {
      const client = new SeaweedClient(toGrpcAddress(master), this.credentials, CLIENT_OPTIONS);
      const stream = client.sendHeartbeat();
      const session: Session = { stream, master };
      this.session = session;
      let registered = false;
      let leader = "";
      let pulses = 0;
      const timer = setInterval(() => {
        pulses++;
        stream.write(this.source.fullHeartbeat());
        if (pulses % EC_PULSES === 0) stream.write(this.source.ecHeartbeat());
      }, this.pulseMs);

      let finished = false;
      const finish = (reason: string) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        if (this.session === session) this.session = undefined;
        if (registered) this.source.onDisconnected(master);
        if (!this.stopped) log.info(`heartbeat to ${master} ended: ${reason}`);
        stream.cancel();
        client.close();
        resolve(leader);
      };

      stream.on("data", (response: HeartbeatResponse) => {
        if (response.leader !== "" && !sameServer(response.leader, master)) {
          log.info(`volume server found a new master newLeader: ${response.leader} instead of ${master}`);
          leader = response.leader;
          finish("redirected to the leader");
          return;
        }
        if (!registered) {
          registered = true;
          log.info(`heartbeat to: ${master}`);
          this.source.onRegistered(master);
        }
        this.source.onResponse(response, master);
      });
      stream.on("error", (err: Error) => finish(err.message));
      stream.on("end", () => finish("closed by the master"));

      stream.write(this.source.fullHeartbeat());
      stream.write(this.source.ecHeartbeat());
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
