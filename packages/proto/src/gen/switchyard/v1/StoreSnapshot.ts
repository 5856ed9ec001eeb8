// Original file: proto/switchyard/v1/device.proto

import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from '../../switchyard/v1/StoreState.js';
import type { Long } from '@grpc/proto-loader';

export interface StoreSnapshot {
  'state'?: (_switchyard_v1_StoreState | null);
  'sequence'?: (number | string | Long);
}

export interface StoreSnapshot__Output {
  'state': (_switchyard_v1_StoreState__Output | null);
  'sequence': (number);
}
