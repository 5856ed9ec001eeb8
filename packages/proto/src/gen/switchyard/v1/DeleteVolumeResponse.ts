// Original file: proto/switchyard/v1/controller.proto


export interface DeleteVolumeResponse {
}

export interface DeleteVolumeResponse__Output {
}
