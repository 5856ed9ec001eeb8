// Original file: proto/switchyard/v1/controller.proto


export interface MoveExtent {
  'volume'?: (string);
  'extent_index'?: (number);
  'to_lu'?: (string);
}

export interface MoveExtent__Output {
  'volume': (string);
  'extent_index': (number);
  'to_lu': (string);
}
