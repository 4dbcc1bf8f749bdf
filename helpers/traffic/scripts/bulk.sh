#!/usr/bin/env bash
# Lab 2, step 3 (optional): a large download, run on the PRIVATE instance so that it goes
# through the NAT gateway. The download is capped in bytes and in time and written to
# /dev/null, so it fills no disk and costs a bounded amount of NAT data processing.
#
# Environment:
#   BULK_URL        what to download (default: the Ubuntu 20.04.6 desktop ISO the lesson uses)
#   BULK_MAX_BYTES  stop after this many bytes (default 500000000, about 500 MB)
#   BULK_TIMEOUT    stop after this many seconds (default 120)
set -u

BULK_URL="${BULK_URL:-https://releases.ubuntu.com/20.04/ubuntu-20.04.6-desktop-amd64.iso}"
BULK_MAX_BYTES="${BULK_MAX_BYTES:-500000000}"
BULK_TIMEOUT="${BULK_TIMEOUT:-120}"

echo "== downloading at most ${BULK_MAX_BYTES} bytes of ${BULK_URL} (max ${BULK_TIMEOUT} s)"
curl --silent --show-error --location --max-time "${BULK_TIMEOUT}" \
    --range "0-$((BULK_MAX_BYTES - 1))" "${BULK_URL}" \
    | head -c "${BULK_MAX_BYTES}" | wc -c | awk '{ printf "downloaded %d bytes\n", $1 }'
