// Original file: proto/switchyard/v1/controller.proto


export interface ListVolumesRequest {
}

export interface ListVolumesRequest__Output {
}
