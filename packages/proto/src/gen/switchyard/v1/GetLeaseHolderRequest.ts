// Original file: proto/switchyard/v1/device.proto


/**
 * Who was granted the newest epoch: the arbiter's (or, on a device that
 * follows etcd, the coordination's) current holder. An epoch names one
 * holder for ever, so an apparatus asked to act under an epoch it has not
 * seen asks this once and then knows whose certificate may use it. Empty
 * holder_id and epoch 0 when no lease was granted (or the newest ended).
 */
export interface GetLeaseHolderRequest {
}

/**
 * Who was granted the newest epoch: the arbiter's (or, on a device that
 * follows etcd, the coordination's) current holder. An epoch names one
 * holder for ever, so an apparatus asked to act under an epoch it has not
 * seen asks this once and then knows whose certificate may use it. Empty
 * holder_id and epoch 0 when no lease was granted (or the newest ended).
 */
export interface GetLeaseHolderRequest__Output {
}
