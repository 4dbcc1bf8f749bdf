#!/usr/bin/env bash
# Lab 2, step 2: traffic the private instance's security group rejects, sent from the PUBLIC
# instance: telnet PRIVATE_IP 3306 and nc -zv PRIVATE_IP 80. Both give up after a timeout;
# their SYNs appear as REJECT records on the private instance's network interface.
#
# Environment:
#   PRIVATE_IP   private instance's address (required)
#   PORTS        TCP ports to try with nc   (default "80")
#   TIMEOUT      seconds per attempt        (default 3)
set -u

: "${PRIVATE_IP:?set PRIVATE_IP to the address of the private instance}"
PORTS="${PORTS:-80}"
TIMEOUT="${TIMEOUT:-3}"

echo "== telnet ${PRIVATE_IP} 3306 (gives up after $((TIMEOUT + 2)) s)"
if command -v telnet >/dev/null 2>&1; then
    timeout "$((TIMEOUT + 2))" telnet "${PRIVATE_IP}" 3306 </dev/null \
        || echo "telnet: no connection (status $?), as expected"
else
    timeout "$((TIMEOUT + 2))" bash -c "exec 3<>/dev/tcp/${PRIVATE_IP}/3306" \
        || echo "no telnet installed; bash /dev/tcp attempt failed (status $?), as expected"
fi

for port in ${PORTS}; do
    echo "== nc -zv -w ${TIMEOUT} ${PRIVATE_IP} ${port}"
    if command -v nc >/dev/null 2>&1; then
        nc -zv -w "${TIMEOUT}" "${PRIVATE_IP}" "${port}" \
            || echo "nc: port ${port} not reachable (status $?), as expected"
    else
        timeout "${TIMEOUT}" bash -c "exec 3<>/dev/tcp/${PRIVATE_IP}/${port}" \
            || echo "no nc installed; bash /dev/tcp attempt failed (status $?), as expected"
    fi
done
