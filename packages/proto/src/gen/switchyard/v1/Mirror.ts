// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

/**
 * An extent's source area in mirror state during a migration (DESIGN.md
 * "Online migration"), kept by the device when both areas are its own: writes
 * below the watermark go to both areas, above it to the source only, and the
 * device copies chunk by chunk, holding only the chunk's writes. The commit
 * that remaps the extent ends the mirror.
 */
export interface Mirror {
  'volume'?: (string);
  'extent_index'?: (number);
  'source_lu_id'?: (string);
  'source_area_index'?: (number);
  'destination_lu_id'?: (string);
  'destination_area_index'?: (number);
  /**
   * Bytes from the area's start copied so far; StartMirror's is where a
   * resumed copy begins.
   */
  'watermark_bytes'?: (number | string | Long);
  /**
   * The migration it belongs to: the mirrors of one share its rate limit.
   */
  'group'?: (string);
  /**
   * 0: no limit.
   */
  'rate_bytes_per_second'?: (number | string | Long);
  /**
   * Reported only: the whole area is copied, writes go to both areas.
   */
  'synced'?: (boolean);
  /**
   * Reported only: why the copy stopped (a read error, say), or empty.
   */
  'failure'?: (string);
  /**
   * Reported only: bytes below the watermark that were holes on both sides,
   * so not written (since this device last started the copy).
   */
  'hole_bytes_skipped'?: (number | string | Long);
  /**
   * Reported only: chunks copied more than once because host writes went
   * into them while they were copied, counting each copy after the first
   * (since this device last started the copy).
   */
  'chunks_copied_again'?: (number | string | Long);
}

/**
 * An extent's source area in mirror state during a migration (DESIGN.md
 * "Online migration"), kept by the device when both areas are its own: writes
 * below the watermark go to both areas, above it to the source only, and the
 * device copies chunk by chunk, holding only the chunk's writes. The commit
 * that remaps the extent ends the mirror.
 */
export interface Mirror__Output {
  'volume': (string);
  'extent_index': (number);
  'source_lu_id': (string);
  'source_area_index': (number);
  'destination_lu_id': (string);
  'destination_area_index': (number);
  /**
   * Bytes from the area's start copied so far; StartMirror's is where a
   * resumed copy begins.
   */
  'watermark_bytes': (number);
  /**
   * The migration it belongs to: the mirrors of one share its rate limit.
   */
  'group': (string);
  /**
   * 0: no limit.
   */
  'rate_bytes_per_second': (number);
  /**
   * Reported only: the whole area is copied, writes go to both areas.
   */
  'synced': (boolean);
  /**
   * Reported only: why the copy stopped (a read error, say), or empty.
   */
  'failure': (string);
  /**
   * Reported only: bytes below the watermark that were holes on both sides,
   * so not written (since this device last started the copy).
   */
  'hole_bytes_skipped': (number);
  /**
   * Reported only: chunks copied more than once because host writes went
   * into them while they were copied, counting each copy after the first
   * (since this device last started the copy).
   */
  'chunks_copied_again': (number);
}
