// Original file: proto/switchyard/v1/device.proto


export interface ReadStoreRequest {
  /**
   * The extent maps are nearly all of a large store: a caller that needs
   * only the rest (the controller looking for enrolled apparatuses, every
   * few seconds) leaves them out, and gets every volume with no extents.
   */
  'omit_extents'?: (boolean);
  /**
   * The change journal grows to hundreds of entries, each with its phases
   * and reports: planning a change does not need it.
   */
  'omit_journal'?: (boolean);
}

export interface ReadStoreRequest__Output {
  /**
   * The extent maps are nearly all of a large store: a caller that needs
   * only the rest (the controller looking for enrolled apparatuses, every
   * few seconds) leaves them out, and gets every volume with no extents.
   */
  'omit_extents': (boolean);
  /**
   * The change journal grows to hundreds of entries, each with its phases
   * and reports: planning a change does not need it.
   */
  'omit_journal': (boolean);
}
