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

/**
 * How soon, and at most how long after, a channel tries again to connect to
 * a peer that refused it. gRPC's defaults (1 s, doubling to 2 minutes) left
 * a controller or apparatus failing calls for seconds after a restarted
 * device was back: calls fail at once while a channel waits to reconnect.
 * On loopback or a LAN a try is cheap.
 */
export const reconnectBackoffInitialMs = 100;
export const reconnectBackoffMaxMs = 1_000;

/** Channel and server options carrying controlMessageBytesMax and the reconnect backoff, for every gRPC client and server. */
export const controlChannelOptions = {
  "grpc.max_receive_message_length": controlMessageBytesMax,
  "grpc.max_send_message_length": controlMessageBytesMax,
  "grpc.initial_reconnect_backoff_ms": reconnectBackoffInitialMs,
  "grpc.max_reconnect_backoff_ms": reconnectBackoffMaxMs,
} as const;

/**
 * Calls one client connection may have open at once on a server: each
 * apparatus's Control stream, a long poll of the mirrors and a console's
 * watches are a handful; beyond this the client's next call waits for one
 * to end (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS), so one peer cannot make
 * a server hold unbounded calls.
 */
export const controlStreamsPerConnectionMax = 256;

/** Options of every gRPC server: the channel's, and the cap on concurrent calls per connection. */
export const controlServerOptions = {
  ...controlChannelOptions,
  "grpc.max_concurrent_streams": controlStreamsPerConnectionMax,
} as const;

/** Change journal entries the configuration store keeps, the newest: enough for `change list`, small beside the table. */
export const journalEntriesMax = 256;
