import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from './switchyard/v1/ConfigurationTable.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from './switchyard/v1/DifferenceTable.js';
import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from './switchyard/v1/ExtentColumns.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from './switchyard/v1/ExtentRow.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from './switchyard/v1/LogicalUnit.js';
import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from './switchyard/v1/VolumeShape.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from './switchyard/v1/VolumeTable.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  switchyard: {
    v1: {
      ConfigurationTable: MessageTypeDefinition<_switchyard_v1_ConfigurationTable, _switchyard_v1_ConfigurationTable__Output>
      DifferenceTable: MessageTypeDefinition<_switchyard_v1_DifferenceTable, _switchyard_v1_DifferenceTable__Output>
      ExtentColumns: MessageTypeDefinition<_switchyard_v1_ExtentColumns, _switchyard_v1_ExtentColumns__Output>
      ExtentRow: MessageTypeDefinition<_switchyard_v1_ExtentRow, _switchyard_v1_ExtentRow__Output>
      LogicalUnit: MessageTypeDefinition<_switchyard_v1_LogicalUnit, _switchyard_v1_LogicalUnit__Output>
      VolumeShape: MessageTypeDefinition<_switchyard_v1_VolumeShape, _switchyard_v1_VolumeShape__Output>
      VolumeTable: MessageTypeDefinition<_switchyard_v1_VolumeTable, _switchyard_v1_VolumeTable__Output>
    }
  }
}

