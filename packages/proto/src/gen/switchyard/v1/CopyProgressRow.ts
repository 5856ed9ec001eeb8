// Original file: proto/switchyard/v1/store.proto

import type { Long } from '@grpc/proto-loader';

export interface CopyProgressRow {
  'volume'?: (string);
  'extent_index'?: (number);
  'source_lu_id'?: (string);
  'source_area_index'?: (number);
  'destination_lu_id'?: (string);
  'destination_area_index'?: (number);
  'watermark_bytes'?: (number | string | Long);
  'state'?: (string);
  /**
   * The device's last report of the bytes it skipped as holes on both
   * sides (copied, but nothing written): a mostly empty volume copies only
   * its data, and says so.
   */
  'hole_bytes_skipped'?: (number | string | Long);
  /**
   * The device's last report of its chunk copies beyond the first, made
   * because host writes went into a chunk while it was copied: the price
   * of not holding those writes, shown to whoever watches the copy.
   */
  'chunks_copied_again'?: (number | string | Long);
}

export interface CopyProgressRow__Output {
  'volume': (string);
  'extent_index': (number);
  'source_lu_id': (string);
  'source_area_index': (number);
  'destination_lu_id': (string);
  'destination_area_index': (number);
  'watermark_bytes': (number);
  'state': (string);
  /**
   * The device's last report of the bytes it skipped as holes on both
   * sides (copied, but nothing written): a mostly empty volume copies only
   * its data, and says so.
   */
  'hole_bytes_skipped': (number);
  /**
   * The device's last report of its chunk copies beyond the first, made
   * because host writes went into a chunk while it was copied: the price
   * of not holding those writes, shown to whoever watches the copy.
   */
  'chunks_copied_again': (number);
}
