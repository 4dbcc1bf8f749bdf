#!/usr/bin/env bash
# Lab 2, step 1: normal traffic from the PUBLIC (web) instance.
#   curl http://httpbin.org/ip, ping -c 5 8.8.8.8, then SSH to the private instance.
# Every command has a timeout; the script never loops.
#
# Environment:
#   PRIVATE_IP   private instance's address (required for the SSH step; skipped when empty)
#   HTTP_URL     URL to fetch               (default http://httpbin.org/ip)
#   PING_TARGET  host to ping               (default 8.8.8.8)
#   PING_COUNT   echo requests              (default 5)
#   SSH_USER     login on the private host  (default ec2-user)
#   SSH_KEY      private key file for SSH   (default: ssh's own defaults)
#   TIMEOUT      seconds per command        (default 10)
set -u

HTTP_URL="${HTTP_URL:-http://httpbin.org/ip}"
PING_TARGET="${PING_TARGET:-8.8.8.8}"
PING_COUNT="${PING_COUNT:-5}"
SSH_USER="${SSH_USER:-ec2-user}"
TIMEOUT="${TIMEOUT:-10}"
PRIVATE_IP="${PRIVATE_IP:-}"

echo "== curl ${HTTP_URL}"
curl --silent --show-error --max-time "${TIMEOUT}" "${HTTP_URL}" || echo "curl failed ($?)"

echo "== ping -c ${PING_COUNT} ${PING_TARGET}"
ping -c "${PING_COUNT}" -W 2 "${PING_TARGET}" || echo "ping failed ($?)"

if [ -n "${PRIVATE_IP}" ]; then
    echo "== ssh ${SSH_USER}@${PRIVATE_IP}"
    key_option=()
    if [ -n "${SSH_KEY:-}" ]; then key_option=(-i "${SSH_KEY}"); fi
    timeout "${TIMEOUT}" ssh ${key_option[@]+"${key_option[@]}"} -o BatchMode=yes -o ConnectTimeout=5 \
        -o StrictHostKeyChecking=accept-new "${SSH_USER}@${PRIVATE_IP}" 'hostname; uptime' \
        || echo "ssh ended with status $? (the flow log records the connection either way)"
else
    echo "== PRIVATE_IP is not set: skipping the SSH step"
fi
