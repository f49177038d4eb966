# SPDX-License-Identifier: BSD-3-Clause
"""The scripts' one port picker (tools/common/free_port.sh), for the Python
tests: a port below the ephemeral range, where no other process's outgoing
connection can take it before torchrun binds it."""
import os
import subprocess


def free_port(src):
    lib = os.path.join(src, "tools", "common", "free_port.sh")
    return int(subprocess.check_output(["bash", "-c", '. "$0"; sx_free_port', lib], text=True))
