-- The 20 (source, destination port) pairs with the most rejected records.
SELECT srcaddr AS "srcAddr", dstport AS "dstPort", COUNT(*) AS reject_count
FROM flows
WHERE action = 'REJECT'
GROUP BY srcaddr, dstport
ORDER BY reject_count DESC, srcaddr, dstport
LIMIT 20;
