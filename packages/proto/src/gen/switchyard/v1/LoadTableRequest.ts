// Original file: proto/switchyard/v1/apparatus.proto

import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from '../../switchyard/v1/ConfigurationTable.js';
import type { Long } from '@grpc/proto-loader';

export interface LoadTableRequest {
  'epoch'?: (number | string | Long);
  'table'?: (_switchyard_v1_ConfigurationTable | null);
}

export interface LoadTableRequest__Output {
  'epoch': (number);
  'table': (_switchyard_v1_ConfigurationTable__Output | null);
}
