// Original file: proto/switchyard/v1/controller.proto

import type { ChangeInfo as _switchyard_v1_ChangeInfo, ChangeInfo__Output as _switchyard_v1_ChangeInfo__Output } from '../../switchyard/v1/ChangeInfo.js';

export interface ListChangesResponse {
  'changes'?: (_switchyard_v1_ChangeInfo)[];
}

export interface ListChangesResponse__Output {
  'changes': (_switchyard_v1_ChangeInfo__Output)[];
}
