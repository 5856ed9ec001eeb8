// Original file: proto/switchyard/v1/device.proto

import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from '../../switchyard/v1/StoreState.js';
import type { Long } from '@grpc/proto-loader';

export interface WriteStoreRequest {
  'epoch'?: (number | string | Long);
  /**
   * The sequence the writer read; a write on a stale sequence is refused.
   */
  'expected_sequence'?: (number | string | Long);
  'state'?: (_switchyard_v1_StoreState | null);
}

export interface WriteStoreRequest__Output {
  'epoch': (number);
  /**
   * The sequence the writer read; a write on a stale sequence is refused.
   */
  'expected_sequence': (number);
  'state': (_switchyard_v1_StoreState__Output | null);
}
