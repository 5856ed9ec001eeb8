// Original file: proto/switchyard/v1/device.proto

import type { Mirror as _switchyard_v1_Mirror, Mirror__Output as _switchyard_v1_Mirror__Output } from '../../switchyard/v1/Mirror.js';
import type { Long } from '@grpc/proto-loader';

export interface ListMirrorsResponse {
  'mirrors'?: (_switchyard_v1_Mirror)[];
  /**
   * Rises each time a durable watermark moves, a copy fails, or a mirror
   * starts or ends: pass it back as after_progress to wait for the next.
   */
  'progress'?: (number | string | Long);
}

export interface ListMirrorsResponse__Output {
  'mirrors': (_switchyard_v1_Mirror__Output)[];
  /**
   * Rises each time a durable watermark moves, a copy fails, or a mirror
   * starts or ends: pass it back as after_progress to wait for the next.
   */
  'progress': (number);
}
