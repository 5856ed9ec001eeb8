// Original file: proto/switchyard/v1/store.proto


/**
 * Where an apparatus is reached; it enrolls itself through the device.
 */
export interface ApparatusRecord {
  'id'?: (string);
  'nbd'?: (string);
  'grpc'?: (string);
}

/**
 * Where an apparatus is reached; it enrolls itself through the device.
 */
export interface ApparatusRecord__Output {
  'id': (string);
  'nbd': (string);
  'grpc': (string);
}
