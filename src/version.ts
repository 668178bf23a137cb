// The version this server reports, in the pinned weed's form ("30GB 4.53"): tools and the master
// compare it with their own, and the size prefix tells the default index offset width.

export const WEED_VERSION_NUMBER = "4.53";

export function versionString(offsetBytes: 4 | 5 = 4): string {
  return `${offsetBytes === 5 ? "8000GB" : "30GB"} ${WEED_VERSION_NUMBER}`;
}

/** "SeaweedFS Volume 30GB 4.53", the Server header of every response. */
export function serverHeader(offsetBytes: 4 | 5 = 4): string {
  return `SeaweedFS Volume ${versionString(offsetBytes)}`;
}
