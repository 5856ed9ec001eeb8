// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Zeroes storage areas before they are given to a volume, so that a new
 * volume never shows a deleted volume's data. Areas that read as zeroes are
 * left alone, so never-written areas of a sparse LU stay unallocated.
 */
export interface ScrubAreasRequest {
  'epoch'?: (number | string | Long);
  'lu_id'?: (string);
  'area_indexes'?: (number)[];
}

/**
 * Zeroes storage areas before they are given to a volume, so that a new
 * volume never shows a deleted volume's data. Areas that read as zeroes are
 * left alone, so never-written areas of a sparse LU stay unallocated.
 */
export interface ScrubAreasRequest__Output {
  'epoch': (number);
  'lu_id': (string);
  'area_indexes': (number)[];
}
