// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface ProbeNbdExportResponse {
  'size_bytes'?: (number | string | Long);
  'read_only'?: (boolean);
  /**
   * The export the URI names; empty for the server's default export.
   */
  'export_name'?: (string);
}

export interface ProbeNbdExportResponse__Output {
  'size_bytes': (number);
  'read_only': (boolean);
  /**
   * The export the URI names; empty for the server's default export.
   */
  'export_name': (string);
}
