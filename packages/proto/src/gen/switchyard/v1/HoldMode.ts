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
  /**
   * Hold nothing: a change (mirror, switch, unmirror) of extents whose
   * every area is one Switchyard device's, which takes either face's I/O
   * into the mirror until the commit. Apply then answers once the requests
   * admitted under the old face have ended, instead of Hold.
   */
  HOLD_MODE_NONE: 'HOLD_MODE_NONE',
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
  /**
   * Hold nothing: a change (mirror, switch, unmirror) of extents whose
   * every area is one Switchyard device's, which takes either face's I/O
   * into the mirror until the commit. Apply then answers once the requests
   * admitted under the old face have ended, instead of Hold.
   */
  | 'HOLD_MODE_NONE'
  | 3

export type HoldMode__Output = typeof HoldMode[keyof typeof HoldMode]
