// Original file: proto/switchyard/v1/table.proto

import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from '../../switchyard/v1/VolumeShape.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from '../../switchyard/v1/ExtentRow.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from '../../switchyard/v1/LogicalUnit.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The difference information table (claim 2): what turns generation
 * base_generation into generation base_generation + 1.
 */
export interface DifferenceTable {
  'base_generation'?: (number | string | Long);
  'generation'?: (number | string | Long);
  'shapes'?: (_switchyard_v1_VolumeShape)[];
  'rows'?: (_switchyard_v1_ExtentRow)[];
  'lus_added'?: (_switchyard_v1_LogicalUnit)[];
}

/**
 * The difference information table (claim 2): what turns generation
 * base_generation into generation base_generation + 1.
 */
export interface DifferenceTable__Output {
  'base_generation': (number);
  'generation': (number);
  'shapes': (_switchyard_v1_VolumeShape__Output)[];
  'rows': (_switchyard_v1_ExtentRow__Output)[];
  'lus_added': (_switchyard_v1_LogicalUnit__Output)[];
}
