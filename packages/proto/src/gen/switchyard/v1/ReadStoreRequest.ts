// Original file: proto/switchyard/v1/device.proto


export interface ReadStoreRequest {
  /**
   * The extent maps are nearly all of a large store: a caller that needs
   * only the rest (the controller looking for enrolled apparatuses, every
   * few seconds) leaves them out, and gets every volume with no extents.
   */
  'omit_extents'?: (boolean);
}

export interface ReadStoreRequest__Output {
  /**
   * The extent maps are nearly all of a large store: a caller that needs
   * only the rest (the controller looking for enrolled apparatuses, every
   * few seconds) leaves them out, and gets every volume with no extents.
   */
  'omit_extents': (boolean);
}
