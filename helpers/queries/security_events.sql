-- Rejected attempts on SSH, RDP, SQL Server and MySQL ports, per source and port.
SELECT srcaddr AS "srcAddr", dstport AS "dstPort", COUNT(*) AS attempts
FROM flows
WHERE action = 'REJECT' AND dstport IN (22, 3389, 1433, 3306)
GROUP BY srcaddr, dstport
ORDER BY attempts DESC, srcaddr, dstport;
