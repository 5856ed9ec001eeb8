// Original file: proto/switchyard/v1/device.proto


/**
 * Connects to an NBD server's export as an apparatus would and says what it
 * serves, so that the controller, which has no data path, can register the
 * server as an external device (`device add-external`). INVALID_ARGUMENT for
 * a URI the cluster does not take (not nbd://HOST:PORT[/EXPORT], or an export
 * name that is not a plain name); FAILED_PRECONDITION when the server cannot
 * be reached or refuses the export.
 */
export interface ProbeNbdExportRequest {
  'nbd_uri'?: (string);
}

/**
 * Connects to an NBD server's export as an apparatus would and says what it
 * serves, so that the controller, which has no data path, can register the
 * server as an external device (`device add-external`). INVALID_ARGUMENT for
 * a URI the cluster does not take (not nbd://HOST:PORT[/EXPORT], or an export
 * name that is not a plain name); FAILED_PRECONDITION when the server cannot
 * be reached or refuses the export.
 */
export interface ProbeNbdExportRequest__Output {
  'nbd_uri': (string);
}
