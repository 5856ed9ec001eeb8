// Original file: proto/switchyard/v1/controller.proto


/**
 * One member of the coordination: the device (embedded) or an etcd member.
 */
export interface CoordinationMember {
  'name'?: (string);
  /**
   * host:port (embedded) or a client URL (etcd).
   */
  'endpoint'?: (string);
  /**
   * It answered a status request within the call timeout.
   */
  'healthy'?: (boolean);
  /**
   * It orders the writes: etcd's Raft leader, or the one device.
   */
  'leader'?: (boolean);
}

/**
 * One member of the coordination: the device (embedded) or an etcd member.
 */
export interface CoordinationMember__Output {
  'name': (string);
  /**
   * host:port (embedded) or a client URL (etcd).
   */
  'endpoint': (string);
  /**
   * It answered a status request within the call timeout.
   */
  'healthy': (boolean);
  /**
   * It orders the writes: etcd's Raft leader, or the one device.
   */
  'leader': (boolean);
}
