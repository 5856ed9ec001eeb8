// Original file: proto/switchyard/v1/apparatus.proto

import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from '../../switchyard/v1/DifferenceTable.js';
import type { Long } from '@grpc/proto-loader';

export interface ApplyRequest {
  'change_id'?: (string);
  'epoch'?: (number | string | Long);
  'diff'?: (_switchyard_v1_DifferenceTable | null);
}

export interface ApplyRequest__Output {
  'change_id': (string);
  'epoch': (number);
  'diff': (_switchyard_v1_DifferenceTable__Output | null);
}
