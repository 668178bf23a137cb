// The identity of an .idx file at one moment: device, inode, size and change times. A map built from
// an .idx read elsewhere (a worker thread) is used only while the file's stamp is unchanged.

import { fstatSync } from "node:fs";

export interface IndexFileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function stampOf(fd: number): IndexFileStamp {
  const s = fstatSync(fd, { bigint: true });
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

/** The file open as `fd` still has this stamp: same file, not written or truncated since. */
export function sameFile(stamp: IndexFileStamp, fd: number): boolean {
  const now = stampOf(fd);
  return (
    now.dev === stamp.dev &&
    now.ino === stamp.ino &&
    now.size === stamp.size &&
    now.mtimeNs === stamp.mtimeNs &&
    now.ctimeNs === stamp.ctimeNs
  );
}
