/**
 * Limits that both ends of a control message must agree on, so they live with
 * the messages.
 */

/** The most extents one volume may have: 2^22 extents of 4 MiB is 16 TiB, 96 MiB of extent map per face. */
export const extentsPerVolumeMax = 1 << 22;

/**
 * The largest control message either end sends or accepts: 128 MiB. A whole
 * table (LoadTable, ReadStore) of one volume at extentsPerVolumeMax is about
 * 7 bytes per extent packed, 28 MiB, and a volume listing with one row per
 * extent about three times that; gRPC's default of 4 MiB stops at about a
 * million extents. Changes themselves send diffs and stay small.
 */
export const controlMessageBytesMax = 128 << 20;

/** Channel and server options carrying controlMessageBytesMax, for every gRPC client and server. */
export const controlChannelOptions = {
  "grpc.max_receive_message_length": controlMessageBytesMax,
  "grpc.max_send_message_length": controlMessageBytesMax,
} as const;

/** Change journal entries the configuration store keeps, the newest: enough for `change list`, small beside the table. */
export const journalEntriesMax = 256;
