/**
 * Limits that both ends of a control message must agree on, so they live with
 * the messages.
 */

/** The most extents one volume may have: 2^22 extents of 4 MiB is 16 TiB, 96 MiB of extent map per face. */
export const extentsPerVolumeMax = 1 << 22;
