// Original file: proto/switchyard/v1/device.proto

import type { StoreDelta as _switchyard_v1_StoreDelta, StoreDelta__Output as _switchyard_v1_StoreDelta__Output } from '../../switchyard/v1/StoreDelta.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A change's commit (the commit point, claim 1) or journal update, sent as
 * a delta so that its cost does not grow with the table.
 */
export interface CommitDeltaRequest {
  'epoch'?: (number | string | Long);
  'delta'?: (_switchyard_v1_StoreDelta | null);
}

/**
 * A change's commit (the commit point, claim 1) or journal update, sent as
 * a delta so that its cost does not grow with the table.
 */
export interface CommitDeltaRequest__Output {
  'epoch': (number);
  'delta': (_switchyard_v1_StoreDelta__Output | null);
}
