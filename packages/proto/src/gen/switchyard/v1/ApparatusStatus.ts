// Original file: proto/switchyard/v1/apparatus.proto

export const ApparatusStatus = {
  APPARATUS_STATUS_UNSPECIFIED: 'APPARATUS_STATUS_UNSPECIFIED',
  APPARATUS_STATUS_SERVING: 'APPARATUS_STATUS_SERVING',
  APPARATUS_STATUS_HELD: 'APPARATUS_STATUS_HELD',
  APPARATUS_STATUS_FENCED: 'APPARATUS_STATUS_FENCED',
  APPARATUS_STATUS_DOWN: 'APPARATUS_STATUS_DOWN',
} as const;

export type ApparatusStatus =
  | 'APPARATUS_STATUS_UNSPECIFIED'
  | 0
  | 'APPARATUS_STATUS_SERVING'
  | 1
  | 'APPARATUS_STATUS_HELD'
  | 2
  | 'APPARATUS_STATUS_FENCED'
  | 3
  | 'APPARATUS_STATUS_DOWN'
  | 4

export type ApparatusStatus__Output = typeof ApparatusStatus[keyof typeof ApparatusStatus]
