# shellcheck shell=bash
# sx_free_port: print a TCP port for a bootstrap server to listen on.
#
# Below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so
# that no outgoing connection of another process (a test running beside
# this one, torchrun, mpirun) can be given it between this check and the
# bind: SO_REUSEADDR lets a listener bind over TIME_WAIT only, not over a
# connected socket, and a port picked inside that range failed the bind
# with "Address already in use" under a loaded test suite. And no socket
# in any state uses it now.
sx_free_port() {
	local lo=32768 hi p
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$lo" -gt 11024 ] 2>/dev/null || lo=32768
	while :; do
		p=$((10000 + SRANDOM % (lo - 10000)))
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . && continue
		echo "$p"
		return 0
	done
}
