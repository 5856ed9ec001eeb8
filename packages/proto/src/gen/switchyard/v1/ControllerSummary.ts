// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface ControllerSummary {
  'id'?: (string);
  'epoch'?: (number | string | Long);
  'lease_expires_at_ms'?: (number | string | Long);
  /**
   * The process and thread the change-control loop runs in (claims 10-11):
   * thread 0 is the process's main thread, where the apparatuses' own loops run.
   */
  'pid'?: (number);
  'thread_id'?: (number);
}

export interface ControllerSummary__Output {
  'id': (string);
  'epoch': (number);
  'lease_expires_at_ms': (number);
  /**
   * The process and thread the change-control loop runs in (claims 10-11):
   * thread 0 is the process's main thread, where the apparatuses' own loops run.
   */
  'pid': (number);
  'thread_id': (number);
}
