/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NCCL network-plugin ABI, version 8, written from NCCL's documented
 * plugin interface (plugins/net/README.md and the layout described by its
 * example headers; no NCCL code is copied). NCCL dlopens
 * libnccl-net-<NCCL_NET_PLUGIN>.so and looks up the struct "ncclNetPlugin_v8";
 * the field order and types below are that struct's, which is all the ABI
 * there is. tests/nccl/harness.c checks the sizes on x86-64.
 */
#ifndef SX_NCCL_NET_H
#define SX_NCCL_NET_H

#include <stddef.h>
#include <stdint.h>

/* ncclResult_t values (a plain int enum in NCCL's ABI). */
enum sxn_result {
	SXN_SUCCESS = 0,
	SXN_SYSTEM_ERROR = 2,
	SXN_INTERNAL_ERROR = 3,
	SXN_INVALID_ARGUMENT = 4,
	SXN_INVALID_USAGE = 5,
	SXN_REMOTE_ERROR = 6,
};

/* ncclDebugLogLevel and the NET subsystem flag. */
enum sxn_log_level {
	SXN_LOG_NONE = 0,
	SXN_LOG_VERSION = 1,
	SXN_LOG_WARN = 2,
	SXN_LOG_INFO = 3,
	SXN_LOG_ABORT = 4,
	SXN_LOG_TRACE = 5,
};
#define SXN_LOG_SUBSYS_NET 16ul

typedef void (*sxn_logger_fn)(int level, unsigned long flags, const char *file, int line,
			      const char *fmt, ...);

#define SXN_HANDLE_MAXSIZE 128 /* NCCL_NET_HANDLE_MAXSIZE */
#define SXN_PTR_HOST 0x1       /* NCCL_PTR_HOST */
#define SXN_PTR_CUDA 0x2
#define SXN_PTR_DMABUF 0x4
/* NCCL_NET_MAX_REQUESTS was 8 when v8 was current (NCCL 2.19) and is 32 in
 * newer releases; the plugin accepts 32 per comm so either NCCL fits. */
#define SXN_MAX_REQUESTS 32
#define SXN_V8_MAX_REQUESTS 8

/* ncclNetDeviceType: host-side (proxy-driven) networking only. */
#define SXN_NET_DEVICE_HOST 0

/* ncclNetDeviceHandle_v8_t (same as v7): device offload; unused here. */
struct sxn_dev_handle_v8 {
	int net_device_type;
	int net_device_version;
	void *handle;
	size_t size;
	int needs_proxy_progress;
};

/* ncclNetProperties_v8_t */
struct sxn_props_v8 {
	char *name;
	char *pci_path;
	uint64_t guid;
	int ptr_support;
	int reg_is_global;
	int speed_mbps;
	int port;
	float latency_us;
	int max_comms;
	int max_recvs;
	int net_device_type;
	int net_device_version;
};

/* ncclNet_v8_t */
struct sxn_net_v8 {
	const char *name;
	int (*init)(sxn_logger_fn logger);
	int (*devices)(int *ndev);
	int (*get_properties)(int dev, struct sxn_props_v8 *props);
	int (*listen)(int dev, void *handle, void **listen_comm);
	int (*connect)(int dev, void *handle, void **send_comm, struct sxn_dev_handle_v8 **send_dev);
	int (*accept)(void *listen_comm, void **recv_comm, struct sxn_dev_handle_v8 **recv_dev);
	int (*reg_mr)(void *comm, void *data, size_t size, int type, void **mhandle);
	int (*reg_mr_dmabuf)(void *comm, void *data, size_t size, int type, uint64_t offset,
			     int fd, void **mhandle);
	int (*dereg_mr)(void *comm, void *mhandle);
	int (*isend)(void *send_comm, void *data, int size, int tag, void *mhandle, void **request);
	int (*irecv)(void *recv_comm, int n, void **data, int *sizes, int *tags, void **mhandles,
		     void **request);
	int (*iflush)(void *recv_comm, int n, void **data, int *sizes, void **mhandles,
		      void **request);
	int (*test)(void *request, int *done, int *sizes);
	int (*close_send)(void *send_comm);
	int (*close_recv)(void *recv_comm);
	int (*close_listen)(void *listen_comm);
	int (*get_device_mr)(void *comm, void *mhandle, void **dptr_mhandle);
	int (*irecv_consumed)(void *recv_comm, int n, void *request);
};

#endif
