// Original file: proto/switchyard/v1/table.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Extent rows of one volume as columns (struct of arrays): row i maps virtual
 * extent i. A million extents is a few megabytes on the wire and in memory.
 */
export interface ExtentColumns {
  'lu_index'?: (number)[];
  'area_index'?: (number)[];
  /**
   * Online migration (claim 14): a row with a mirror also writes to the
   * mirror area below its watermark. mirror_lu_index is 0 when there is
   * none; otherwise it is the LU index plus one.
   */
  'mirror_lu_index_plus_one'?: (number)[];
  'mirror_area_index'?: (number)[];
  'mirror_watermark_bytes'?: (number | string | Long)[];
}

/**
 * Extent rows of one volume as columns (struct of arrays): row i maps virtual
 * extent i. A million extents is a few megabytes on the wire and in memory.
 */
export interface ExtentColumns__Output {
  'lu_index': (number)[];
  'area_index': (number)[];
  /**
   * Online migration (claim 14): a row with a mirror also writes to the
   * mirror area below its watermark. mirror_lu_index is 0 when there is
   * none; otherwise it is the LU index plus one.
   */
  'mirror_lu_index_plus_one': (number)[];
  'mirror_area_index': (number)[];
  'mirror_watermark_bytes': (number)[];
}
