/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NCCL network-plugin ABI, versions 8 to 12, written from NCCL's
 * documented plugin interface: plugins/net/README.md and the layouts its
 * example headers describe (plugins/net/example/nccl/net_v8.h .. net_v12.h,
 * net_device.h, common.h of github.com/NVIDIA/nccl at commit 5067397c,
 * 2026-06-11; v9 first appears in 2.24.3, v10 in 2.26.2, v11 in 2.28.3,
 * v12 in the 2.30 development line). No NCCL code is copied. NCCL dlopens
 * libnccl-net-<NCCL_NET_PLUGIN>.so and looks up "ncclNetPlugin_vN", newest
 * first; the field order and types below are each struct's, which is all
 * the ABI there is. tests/nccl/harness.c checks the sizes and offsets on
 * x86-64 against values worked out by hand from those layouts.
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
/* ncclProfilerCallback_t (v10+): lets a plugin record its own events. */
typedef int (*sxn_profiler_fn)(void **event, int type, void *phandle, int64_t plugin_id,
			       void *ext_data);

/* The callback's type argument (common.h's ncclProfilerNetEvent*). */
enum sxn_profiler_event {
	SXN_PROFILER_NET_EVENT_START = 0,
	SXN_PROFILER_NET_EVENT_STOP = 1,
	SXN_PROFILER_NET_EVENT_UPDATE = 2,
	SXN_PROFILER_NET_EVENT_UPDATE_AND_STOP = 3,
};

/*
 * The plugin's own profiler events (plugins/profiler/README.md,
 * "ncclProfileNetPlugin"): the 64-bit plugin id passed with a start holds
 * the event struct's version in its low 16 bits and the network type in
 * the next 16; NCCL hands both, and the struct as extData, to the profiler
 * plugin. NCCL's types are IB (1) and SOCK (2); scalex's is "SX" (0x5358),
 * far from theirs. A profiler plugin that knows this header decodes the
 * struct below; others see an unknown type and skip it.
 */
#define SXN_PROFILER_NET_VER_BITS 16
#define SXN_PROFILER_NET_TYPE_SCALEX (0x5358ull << SXN_PROFILER_NET_VER_BITS)
#define SXN_PROFILER_NET_SCALEX_VER 1
#define SXN_PROFILER_PLUGIN_ID (SXN_PROFILER_NET_TYPE_SCALEX | SXN_PROFILER_NET_SCALEX_VER)

/* sxn_profiler_descr_v1.type: one event per isend and per receive of an
 * irecv, from the post to the test() that reports it complete. */
#define SXN_PROFILE_QP 0x1
/* .qp.op */
#define SXN_PROFILE_OP_SEND 0 /* isend: one RDMA WRITE WITH IMMEDIATE */
#define SXN_PROFILE_OP_RECV 1 /* one receive of an irecv: advertised, then written */

struct sxn_profiler_descr_v1 {
	uint8_t type; /* SXN_PROFILE_QP */
	struct {
		int device;     /* net device (getProperties index) */
		uint32_t qpn;   /* the connection's scalex QP number */
		int op;         /* SXN_PROFILE_OP_* */
		int tag;        /* NCCL's tag */
		size_t length;  /* isend: bytes sent; receive: buffer size posted */
		uint64_t seq;   /* the connection's irecv number (send: of the FIFO slot) */
	} qp;
};

#define SXN_HANDLE_MAXSIZE 128 /* NCCL_NET_HANDLE_MAXSIZE */
#define SXN_PTR_HOST 0x1       /* NCCL_PTR_HOST */
#define SXN_PTR_CUDA 0x2
#define SXN_PTR_DMABUF 0x4
/* NCCL_NET_MAX_REQUESTS: 8 in NCCL 2.19 (v8's first release), 32 since
 * 2.20 for every NCCL that loads v8..v12 plugins. The plugin accepts 32
 * per comm (receives) and 32 x maxRecvs (sends), as the README asks. */
#define SXN_MAX_REQUESTS 32
#define SXN_V8_MAX_REQUESTS 8
/* NCCL_NET_OPTIONAL_RECV_COMPLETION: the value NCCL may leave in irecv's
 * *request for LL/LL128 receives (the plugin still returns a real one). */
#define SXN_OPTIONAL_RECV_COMPLETION ((void *)0x1)
/* NCCL_NET_MAX_DEVS_PER_NIC: 4 for the v9..v11 vProps, 8 for v12. */
#define SXN_VDEVS_V9 4
#define SXN_VDEVS_V12 8
#define SXN_TRAFFIC_CLASS_UNDEF (-1) /* NCCL_NET_TRAFFIC_CLASS_UNDEF */
#define SXN_NET_ID_UNDEF (-1)        /* NCCL_NET_ID_UNDEF (railId, planeId) */

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


/* ncclNetVDeviceProps_v9_t (also v10, v11) and _v12_t: the physical
 * devices fused into one (NIC fusion). */
struct sxn_vprops_v9 {
	int ndevs;
	int devs[SXN_VDEVS_V9];
};

struct sxn_vprops_v12 {
	int ndevs;
	int devs[SXN_VDEVS_V12];
};

/* ncclNetCommConfig_v10_t (v10: an argument of connect; v11, v12: of
 * init, once per NCCL communicator). */
struct sxn_comm_config {
	int traffic_class;
};

/* ncclNetProperties_v9_t, identical in v10: v8's with forceFlush after
 * regIsGlobal, then vProps and the largest transfer sizes. */
struct sxn_props_v9 {
	char *name;
	char *pci_path;
	uint64_t guid;
	int ptr_support;
	int reg_is_global;
	int force_flush;
	int speed_mbps;
	int port;
	float latency_us;
	int max_comms;
	int max_recvs;
	int net_device_type;
	int net_device_version;
	struct sxn_vprops_v9 vprops;
	size_t max_p2p_bytes;
	size_t max_coll_bytes;
};

/* ncclNetProperties_v11_t: v9's plus maxMultiRequestSize. */
struct sxn_props_v11 {
	char *name;
	char *pci_path;
	uint64_t guid;
	int ptr_support;
	int reg_is_global;
	int force_flush;
	int speed_mbps;
	int port;
	float latency_us;
	int max_comms;
	int max_recvs;
	int net_device_type;
	int net_device_version;
	struct sxn_vprops_v9 vprops;
	size_t max_p2p_bytes;
	size_t max_coll_bytes;
	int max_multi_request_size;
};

/* ncclNetProperties_v12_t: v11's with 8 vProps entries, plus the rail
 * and plane of the device. */
struct sxn_props_v12 {
	char *name;
	char *pci_path;
	uint64_t guid;
	int ptr_support;
	int reg_is_global;
	int force_flush;
	int speed_mbps;
	int port;
	float latency_us;
	int max_comms;
	int max_recvs;
	int net_device_type;
	int net_device_version;
	struct sxn_vprops_v12 vprops;
	size_t max_p2p_bytes;
	size_t max_coll_bytes;
	int max_multi_request_size;
	int16_t rail_id;
	int16_t plane_id;
};

/* ncclNetCommAttr_v11_t / ncclNetAttr_v11_t (same in v12): setNetAttr's
 * hints; optional (NULL: NCCL does not call it). */
struct sxn_comm_attr {
	int32_t max_concurrent_peers;
	int32_t min_concurrent_peers;
	int32_t max_flows_per_peer;
	int32_t min_flows_per_peer;
};

struct sxn_net_attr {
	struct sxn_comm_attr send_comm_attr;
	struct sxn_comm_attr recv_comm_attr;
	uint32_t op;
	uint32_t algo;
	uint32_t proto;
};

/* ncclNet_v9_t: size_t sizes in isend/irecv (iflush and test keep int),
 * makeVDevice appended. */
struct sxn_net_v9 {
	const char *name;
	int (*init)(sxn_logger_fn logger);
	int (*devices)(int *ndev);
	int (*get_properties)(int dev, struct sxn_props_v9 *props);
	int (*listen)(int dev, void *handle, void **listen_comm);
	int (*connect)(int dev, void *handle, void **send_comm, struct sxn_dev_handle_v8 **send_dev);
	int (*accept)(void *listen_comm, void **recv_comm, struct sxn_dev_handle_v8 **recv_dev);
	int (*reg_mr)(void *comm, void *data, size_t size, int type, void **mhandle);
	int (*reg_mr_dmabuf)(void *comm, void *data, size_t size, int type, uint64_t offset,
			     int fd, void **mhandle);
	int (*dereg_mr)(void *comm, void *mhandle);
	int (*isend)(void *send_comm, void *data, size_t size, int tag, void *mhandle,
		     void **request);
	int (*irecv)(void *recv_comm, int n, void **data, size_t *sizes, int *tags,
		     void **mhandles, void **request);
	int (*iflush)(void *recv_comm, int n, void **data, int *sizes, void **mhandles,
		      void **request);
	int (*test)(void *request, int *done, int *sizes);
	int (*close_send)(void *send_comm);
	int (*close_recv)(void *recv_comm);
	int (*close_listen)(void *listen_comm);
	int (*get_device_mr)(void *comm, void *mhandle, void **dptr_mhandle);
	int (*irecv_consumed)(void *recv_comm, int n, void *request);
	int (*make_vdevice)(int *dev, struct sxn_vprops_v9 *props);
};

/* ncclNet_v10_t: init takes the profiler callback, connect the comm
 * config, isend/irecv a profiler handle (per receive for irecv). */
struct sxn_net_v10 {
	const char *name;
	int (*init)(sxn_logger_fn logger, sxn_profiler_fn profiler);
	int (*devices)(int *ndev);
	int (*get_properties)(int dev, struct sxn_props_v9 *props);
	int (*listen)(int dev, void *handle, void **listen_comm);
	int (*connect)(int dev, struct sxn_comm_config *config, void *handle, void **send_comm,
		       struct sxn_dev_handle_v8 **send_dev);
	int (*accept)(void *listen_comm, void **recv_comm, struct sxn_dev_handle_v8 **recv_dev);
	int (*reg_mr)(void *comm, void *data, size_t size, int type, void **mhandle);
	int (*reg_mr_dmabuf)(void *comm, void *data, size_t size, int type, uint64_t offset,
			     int fd, void **mhandle);
	int (*dereg_mr)(void *comm, void *mhandle);
	int (*isend)(void *send_comm, void *data, size_t size, int tag, void *mhandle,
		     void *phandle, void **request);
	int (*irecv)(void *recv_comm, int n, void **data, size_t *sizes, int *tags,
		     void **mhandles, void **phandles, void **request);
	int (*iflush)(void *recv_comm, int n, void **data, int *sizes, void **mhandles,
		      void **request);
	int (*test)(void *request, int *done, int *sizes);
	int (*close_send)(void *send_comm);
	int (*close_recv)(void *recv_comm);
	int (*close_listen)(void *listen_comm);
	int (*get_device_mr)(void *comm, void *mhandle, void **dptr_mhandle);
	int (*irecv_consumed)(void *recv_comm, int n, void *request);
	int (*make_vdevice)(int *dev, struct sxn_vprops_v9 *props);
};

/* ncclNet_v11_t and ncclNet_v12_t (same functions; the properties and
 * vProps differ): init once per NCCL communicator returns a context that
 * listen and connect take and finalize releases; setNetAttr appended. */
#define SXN_NET_V11_FIELDS(props_t, vprops_t)                                                 \
	const char *name;                                                                     \
	int (*init)(void **ctx, uint64_t comm_id, struct sxn_comm_config *config,             \
		    sxn_logger_fn logger, sxn_profiler_fn profiler);                          \
	int (*devices)(int *ndev);                                                            \
	int (*get_properties)(int dev, props_t *props);                                       \
	int (*listen)(void *ctx, int dev, void *handle, void **listen_comm);                  \
	int (*connect)(void *ctx, int dev, void *handle, void **send_comm,                    \
		       struct sxn_dev_handle_v8 **send_dev);                                  \
	int (*accept)(void *listen_comm, void **recv_comm, struct sxn_dev_handle_v8 **recv_dev); \
	int (*reg_mr)(void *comm, void *data, size_t size, int type, void **mhandle);         \
	int (*reg_mr_dmabuf)(void *comm, void *data, size_t size, int type, uint64_t offset,  \
			     int fd, void **mhandle);                                         \
	int (*dereg_mr)(void *comm, void *mhandle);                                           \
	int (*isend)(void *send_comm, void *data, size_t size, int tag, void *mhandle,        \
		     void *phandle, void **request);                                          \
	int (*irecv)(void *recv_comm, int n, void **data, size_t *sizes, int *tags,           \
		     void **mhandles, void **phandles, void **request);                       \
	int (*iflush)(void *recv_comm, int n, void **data, int *sizes, void **mhandles,       \
		      void **request);                                                        \
	int (*test)(void *request, int *done, int *sizes);                                    \
	int (*close_send)(void *send_comm);                                                   \
	int (*close_recv)(void *recv_comm);                                                   \
	int (*close_listen)(void *listen_comm);                                               \
	int (*get_device_mr)(void *comm, void *mhandle, void **dptr_mhandle);                 \
	int (*irecv_consumed)(void *recv_comm, int n, void *request);                         \
	int (*make_vdevice)(int *dev, vprops_t *props);                                       \
	int (*finalize)(void *ctx);                                                           \
	int (*set_net_attr)(void *ctx, struct sxn_net_attr *attr)

struct sxn_net_v11 {
	SXN_NET_V11_FIELDS(struct sxn_props_v11, struct sxn_vprops_v9);
};

struct sxn_net_v12 {
	SXN_NET_V11_FIELDS(struct sxn_props_v12, struct sxn_vprops_v12);
};

#endif
