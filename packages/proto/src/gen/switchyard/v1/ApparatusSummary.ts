// Original file: proto/switchyard/v1/controller.proto

import type { ApparatusStatus as _switchyard_v1_ApparatusStatus, ApparatusStatus__Output as _switchyard_v1_ApparatusStatus__Output } from '../../switchyard/v1/ApparatusStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface ApparatusSummary {
  'id'?: (string);
  'nbd'?: (string);
  'grpc'?: (string);
  'pid'?: (number);
  'state'?: (_switchyard_v1_ApparatusStatus);
  'generation'?: (number | string | Long);
}

export interface ApparatusSummary__Output {
  'id': (string);
  'nbd': (string);
  'grpc': (string);
  'pid': (number);
  'state': (_switchyard_v1_ApparatusStatus__Output);
  'generation': (number);
}
