-- Top 10 sources by accepted bytes.
SELECT srcaddr AS "srcAddr", SUM(bytes) AS total_bytes
FROM flows
WHERE action = 'ACCEPT'
GROUP BY srcaddr
ORDER BY total_bytes DESC, srcaddr
LIMIT 10;
