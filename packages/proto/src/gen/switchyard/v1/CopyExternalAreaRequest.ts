// Original file: proto/switchyard/v1/device.proto

import type { AreaCopyEnd as _switchyard_v1_AreaCopyEnd, AreaCopyEnd__Output as _switchyard_v1_AreaCopyEnd__Output } from '../../switchyard/v1/AreaCopyEnd.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Copies one area from one external device's NBD server to another's (a move
 * between two external devices, while the controller holds the extent's
 * writes): the device reads the source and writes the destination with FUA,
 * so the copy is durable when it answers. The epoch must be the lease's.
 * UNAVAILABLE, naming the device, when either end fails.
 */
export interface CopyExternalAreaRequest {
  'epoch'?: (number | string | Long);
  'source'?: (_switchyard_v1_AreaCopyEnd | null);
  'destination'?: (_switchyard_v1_AreaCopyEnd | null);
  'extent_size_bytes'?: (number | string | Long);
  'length_bytes'?: (number | string | Long);
}

/**
 * Copies one area from one external device's NBD server to another's (a move
 * between two external devices, while the controller holds the extent's
 * writes): the device reads the source and writes the destination with FUA,
 * so the copy is durable when it answers. The epoch must be the lease's.
 * UNAVAILABLE, naming the device, when either end fails.
 */
export interface CopyExternalAreaRequest__Output {
  'epoch': (number);
  'source': (_switchyard_v1_AreaCopyEnd__Output | null);
  'destination': (_switchyard_v1_AreaCopyEnd__Output | null);
  'extent_size_bytes': (number);
  'length_bytes': (number);
}
