// Original file: proto/switchyard/v1/apparatus.proto

import type { HoldInForce as _switchyard_v1_HoldInForce, HoldInForce__Output as _switchyard_v1_HoldInForce__Output } from '../../switchyard/v1/HoldInForce.js';
import type { ApparatusStatus as _switchyard_v1_ApparatusStatus, ApparatusStatus__Output as _switchyard_v1_ApparatusStatus__Output } from '../../switchyard/v1/ApparatusStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface ApparatusState {
  'apparatus_id'?: (string);
  'generation'?: (number | string | Long);
  'active_face'?: (number);
  'holds'?: (_switchyard_v1_HoldInForce)[];
  /**
   * The change between Hold and Release, if any.
   */
  'pending_change_id'?: (string);
  /**
   * "held", "applied" or "" when no change is pending.
   */
  'pending_phase'?: (string);
  'epoch_seen'?: (number | string | Long);
  'status'?: (_switchyard_v1_ApparatusStatus);
  'pid'?: (number);
  'nbd_address'?: (string);
  'grpc_address'?: (string);
  'requests_in_flight'?: (number);
  /**
   * Volumes it stopped serving because a hold outlived its deadline with no
   * Release, Abort or whole table: it serves them again after a LoadTable.
   */
  'volumes_shut'?: (string)[];
  /**
   * SHA-256 (hex) of the key it presents to the device now; "" until
   * registered. A new controller keeps a serving apparatus's registration
   * as it is (the device holds the key), so that a failover does not re-key
   * (and so interrupt) it; the digest says which registration that is
   * without handing the key to whoever may read the state.
   */
  'registration_key_sha256'?: (string);
}

export interface ApparatusState__Output {
  'apparatus_id': (string);
  'generation': (number);
  'active_face': (number);
  'holds': (_switchyard_v1_HoldInForce__Output)[];
  /**
   * The change between Hold and Release, if any.
   */
  'pending_change_id': (string);
  /**
   * "held", "applied" or "" when no change is pending.
   */
  'pending_phase': (string);
  'epoch_seen': (number);
  'status': (_switchyard_v1_ApparatusStatus__Output);
  'pid': (number);
  'nbd_address': (string);
  'grpc_address': (string);
  'requests_in_flight': (number);
  /**
   * Volumes it stopped serving because a hold outlived its deadline with no
   * Release, Abort or whole table: it serves them again after a LoadTable.
   */
  'volumes_shut': (string)[];
  /**
   * SHA-256 (hex) of the key it presents to the device now; "" until
   * registered. A new controller keeps a serving apparatus's registration
   * as it is (the device holds the key), so that a failover does not re-key
   * (and so interrupt) it; the digest says which registration that is
   * without handing the key to whoever may read the state.
   */
  'registration_key_sha256': (string);
}
