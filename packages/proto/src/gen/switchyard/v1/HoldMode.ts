// Original file: proto/switchyard/v1/apparatus.proto

export const HoldMode = {
  HOLD_MODE_UNSPECIFIED: 'HOLD_MODE_UNSPECIFIED',
  /**
   * Hold writes only: reads of the range go on (a copy can run under it).
   */
  HOLD_MODE_WRITES: 'HOLD_MODE_WRITES',
  /**
   * Hold every request that touches the range.
   */
  HOLD_MODE_ALL: 'HOLD_MODE_ALL',
} as const;

export type HoldMode =
  | 'HOLD_MODE_UNSPECIFIED'
  | 0
  /**
   * Hold writes only: reads of the range go on (a copy can run under it).
   */
  | 'HOLD_MODE_WRITES'
  | 1
  /**
   * Hold every request that touches the range.
   */
  | 'HOLD_MODE_ALL'
  | 2

export type HoldMode__Output = typeof HoldMode[keyof typeof HoldMode]
