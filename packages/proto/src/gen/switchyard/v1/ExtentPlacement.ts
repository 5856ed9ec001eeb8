// Original file: proto/switchyard/v1/controller.proto


export interface ExtentPlacement {
  'index'?: (number);
  'lu'?: (string);
  'area'?: (number);
}

export interface ExtentPlacement__Output {
  'index': (number);
  'lu': (string);
  'area': (number);
}
