-- The 10 sources that were rejected on the most distinct destination ports.
SELECT srcaddr AS "srcAddr", COUNT(DISTINCT dstport) AS scanned_ports
FROM flows
WHERE action = 'REJECT'
GROUP BY srcaddr
ORDER BY scanned_ports DESC, srcaddr
LIMIT 10;
