// Original file: proto/switchyard/v1/device.proto


export interface AcquireLeaseRequest {
  'candidate_id'?: (string);
  /**
   * The candidate's address, for followers to forward console requests to.
   */
  'candidate_address'?: (string);
  'lease_ms'?: (number);
}

export interface AcquireLeaseRequest__Output {
  'candidate_id': (string);
  /**
   * The candidate's address, for followers to forward console requests to.
   */
  'candidate_address': (string);
  'lease_ms': (number);
}
