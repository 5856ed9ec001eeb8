// Original file: proto/switchyard/v1/controller.proto

import type { ApparatusSummary as _switchyard_v1_ApparatusSummary, ApparatusSummary__Output as _switchyard_v1_ApparatusSummary__Output } from '../../switchyard/v1/ApparatusSummary.js';

export interface ApparatusActionResponse {
  'apparatus'?: (_switchyard_v1_ApparatusSummary | null);
}

export interface ApparatusActionResponse__Output {
  'apparatus': (_switchyard_v1_ApparatusSummary__Output | null);
}
