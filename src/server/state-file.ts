// The volume server's own state flags (maintenance mode), kept in state.pb beside the first data
// directory's index files as weed keeps them, so they survive restarts and a swap of binaries.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VolumeServerState } from "../pb/volume_server.js";
import { log } from "../util/log.js";

export const STATE_FILE_NAME = "state.pb";

export class StateFile {
  private current: VolumeServerState;

  private constructor(
    readonly path: string,
    state: VolumeServerState,
  ) {
    this.current = state;
  }

  /** Reads `dir/state.pb`; a missing file is the empty state, an unreadable one an error. */
  static open(dir: string): StateFile {
    const path = join(dir, STATE_FILE_NAME);
    if (!existsSync(path)) return new StateFile(path, VolumeServerState.create());
    try {
      return new StateFile(path, VolumeServerState.decode(readFileSync(path)));
    } catch (err) {
      throw new Error(`failed to parse store state from ${path} : ${(err as Error).message}`);
    }
  }

  get state(): VolumeServerState {
    return this.current;
  }

  get maintenance(): boolean {
    return this.current.maintenance;
  }

  /**
   * Replaces the state when the caller saw the current version, then bumps the version and saves.
   * An absent state changes nothing.
   */
  update(next: VolumeServerState | undefined): void {
    if (!next) return;
    if (next.version !== this.current.version) {
      throw new Error(
        `version mismatch for VolumeServerState (got ${this.current.version}, want ${next.version})`,
      );
    }
    const updated = VolumeServerState.create({ ...next, version: next.version + 1 });
    this.save(updated);
    this.current = updated;
    log.v(1, `saved store state ${JSON.stringify(updated)} to ${this.path}`);
  }

  private save(state: VolumeServerState): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, VolumeServerState.encode(state).finish(), { mode: 0o644 });
    renameSync(tmp, this.path);
  }
}
