-- Accepted bytes per hour (UTC), oldest hour first.
SELECT date_trunc('hour', to_timestamp(start)) AS hour, SUM(bytes) AS hourly_bytes
FROM flows
WHERE action = 'ACCEPT'
GROUP BY hour
ORDER BY hour;
