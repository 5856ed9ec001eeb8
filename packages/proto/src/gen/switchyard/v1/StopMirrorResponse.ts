// Original file: proto/switchyard/v1/device.proto


export interface StopMirrorResponse {
  /**
   * False when the extent had no mirror.
   */
  'stopped'?: (boolean);
}

export interface StopMirrorResponse__Output {
  /**
   * False when the extent had no mirror.
   */
  'stopped': (boolean);
}
