// Original file: proto/switchyard/v1/apparatus.proto


/**
 * A refusal on the Control stream: the gRPC status code and message the same
 * request would have failed with as a unary call.
 */
export interface ControlFailure {
  'code'?: (number);
  'details'?: (string);
}

/**
 * A refusal on the Control stream: the gRPC status code and message the same
 * request would have failed with as a unary call.
 */
export interface ControlFailure__Output {
  'code': (number);
  'details': (string);
}
