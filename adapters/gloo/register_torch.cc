/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PyTorch's hook for Gloo transports: ProcessGroupGloo makes its device
 * through c10d::GlooDeviceRegistry under the name in GLOO_DEVICE_TRANSPORT
 * (libtorch_cpu exports the registry). Loading this library
 * (LD_PRELOAD, or torch.ops.load_library) registers "scalex" from a static
 * initializer, so GLOO_DEVICE_TRANSPORT=scalex runs ProcessGroupGloo on
 * scalex. The interface and hostname PyTorch passes name a TCP/IP
 * interface; scalex's devices are DPDK ports chosen by the environment
 * (scalex_gloo.h), so both are ignored.
 */
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/GlooDeviceFactory.hpp>

#include "scalex_gloo.h"

namespace c10d {
namespace {

std::shared_ptr<::gloo::transport::Device>
makeScalexDevice(const std::string & /* interface */, const std::string & /* hostname */)
{
	return sxgloo::CreateDevice();
}

} // namespace

C10_REGISTER_CREATOR(GlooDeviceRegistry, scalex, makeScalexDevice);

} // namespace c10d
