// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A long poll: the device answers at once when its mirrors' progress count
 * is above after_progress, else when it rises or wait_ms has passed. Zero
 * for both answers at once.
 */
export interface ListMirrorsRequest {
  'after_progress'?: (number | string | Long);
  /**
   * At most 5000 ms (INVALID_ARGUMENT above).
   */
  'wait_ms'?: (number);
}

/**
 * A long poll: the device answers at once when its mirrors' progress count
 * is above after_progress, else when it rises or wait_ms has passed. Zero
 * for both answers at once.
 */
export interface ListMirrorsRequest__Output {
  'after_progress': (number);
  /**
   * At most 5000 ms (INVALID_ARGUMENT above).
   */
  'wait_ms': (number);
}
