// Original file: proto/switchyard/v1/device.proto


/**
 * One end of an area copy between two external devices: the LU as the store
 * names it, its device, and the NBD server that serves it.
 */
export interface AreaCopyEnd {
  'lu_id'?: (string);
  'device_id'?: (string);
  'nbd_uri'?: (string);
  'area_index'?: (number);
}

/**
 * One end of an area copy between two external devices: the LU as the store
 * names it, its device, and the NBD server that serves it.
 */
export interface AreaCopyEnd__Output {
  'lu_id': (string);
  'device_id': (string);
  'nbd_uri': (string);
  'area_index': (number);
}
