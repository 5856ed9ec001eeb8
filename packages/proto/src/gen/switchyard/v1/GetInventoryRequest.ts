// Original file: proto/switchyard/v1/device.proto


export interface GetInventoryRequest {
}

export interface GetInventoryRequest__Output {
}
