// A small pool of worker threads that build memory needle maps from .idx files at start-up
// (map-builder-worker.ts). Building a map is CPU work on one thread, so several volumes' maps are
// built at once; each comes back as SharedArrayBuffers, wrapped here without a copy.
//
// Workers start on demand, up to the pool's size, and take one job at a time. A job whose .idx
// cannot be read or parsed fails alone (MapBuildError). A worker that dies or cannot start breaks
// the pool: its job, the queued ones and later ones fail with MapBuildersBroken, and the caller
// builds those maps on its own thread instead.

import { Worker } from "node:worker_threads";
import { MemoryNeedleMap, type SharedNeedleMap } from "../index/needle-map.js";
import type { OffsetWidth, Version } from "../types.js";
import type { IndexFileStamp } from "./index-file-stamp.js";

export interface BuildRequest {
  id: number;
  idxPath: string;
  width: OffsetWidth;
  version: Version;
}

export type BuildReply =
  | { id: number; map: SharedNeedleMap; idxLength: number; stat: IndexFileStamp; error?: undefined }
  | { id: number; error: string };

export interface BuiltMap {
  map: MemoryNeedleMap;
  /** Bytes of the .idx as read. */
  idxLength: number;
  /** The .idx file read, as it was before and after the read. */
  stat?: IndexFileStamp;
}

/** The .idx of this job could not be turned into a map. */
export class MapBuildError extends Error {}

/** The pool cannot build maps any more (a worker died or did not start). */
export class MapBuildersBroken extends Error {}

interface Job {
  request: BuildRequest;
  resolve(built: BuiltMap): void;
  reject(err: Error): void;
}

export class MapBuilders {
  private readonly workers = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private broken: MapBuildersBroken | undefined;
  private closed = false;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`map builder pool size ${size}`);
  }

  /** Why the pool broke, if it did. */
  get failure(): Error | undefined {
    return this.broken;
  }

  build(idxPath: string, width: OffsetWidth, version: Version): Promise<BuiltMap> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new MapBuildersBroken("map builder pool is closed"));
    return new Promise<BuiltMap>((resolve, reject) => {
      const job: Job = { request: { id: this.nextId++, idxPath, width, version }, resolve, reject };
      const worker = this.idle.pop() ?? (this.workers.size < this.size ? this.spawn() : undefined);
      if (worker) this.run(worker, job);
      else this.queue.push(job);
    });
  }

  /** Stops the workers; jobs still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new MapBuildersBroken("map builder pool is closed"));
    const workers = [...this.workers];
    this.workers.clear();
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./map-builder-worker.js", import.meta.url));
    this.workers.add(worker);
    worker.on("message", (reply: BuildReply) => this.answered(worker, reply));
    worker.on("error", (err) => this.lost(worker, err));
    worker.on("exit", (code) => this.lost(worker, new Error(`exited with code ${code}`)));
    return worker;
  }

  private run(worker: Worker, job: Job): void {
    this.running.set(worker, job);
    worker.postMessage(job.request);
  }

  private answered(worker: Worker, reply: BuildReply): void {
    const job = this.running.get(worker);
    this.running.delete(worker);
    const next = this.queue.shift();
    if (next) this.run(worker, next);
    else this.idle.push(worker);
    if (!job || job.request.id !== reply.id) return;
    if (reply.error !== undefined) {
      job.reject(new MapBuildError(reply.error));
      return;
    }
    let map: MemoryNeedleMap;
    try {
      map = MemoryNeedleMap.fromShared(reply.map);
    } catch (err) {
      job.reject(new MapBuildError((err as Error).message));
      return;
    }
    job.resolve({ map, idxLength: reply.idxLength, stat: reply.stat });
  }

  private lost(worker: Worker, err: Error): void {
    if (!this.workers.delete(worker) && !this.running.has(worker)) return;
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    const job = this.running.get(worker);
    this.running.delete(worker);
    const broken = new MapBuildersBroken(`needle map worker failed: ${err.message}`);
    this.broken ??= broken;
    job?.reject(broken);
    this.failAll(broken);
    // The others finish what they run; close() stops them.
  }

  private failAll(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}
