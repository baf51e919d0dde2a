-- `databank explain`: the deliveries in force that differ between two builds. Each build has at
-- most one delivery in force per (provider, month), so a full join on (provider, month) names
-- each change once: added (a new month), replaced (a correction: another delivery of the same
-- month) or removed. $organisation (NULL: all) limits the answer to one provider.
WITH previous AS (
    SELECT d.provider, d.month, d.delivery_id, d.received_at, d.status
    FROM staging.deliveries AS d
    WHERE list_contains((SELECT delivery_ids FROM staging.builds WHERE build_id = $previous_build), d.delivery_id)
), latest AS (
    SELECT d.provider, d.month, d.delivery_id, d.received_at, d.status
    FROM staging.deliveries AS d
    WHERE list_contains((SELECT delivery_ids FROM staging.builds WHERE build_id = $latest_build), d.delivery_id)
)
SELECT
    CASE WHEN p.delivery_id IS NULL THEN 'added'
         WHEN l.delivery_id IS NULL THEN 'removed'
         ELSE 'replaced' END AS change,
    coalesce(l.provider, p.provider) AS provider,
    coalesce(l.month, p.month) AS month,
    p.delivery_id, p.received_at, p.status,
    l.delivery_id, l.received_at, l.status
FROM previous AS p
FULL OUTER JOIN latest AS l ON p.provider = l.provider AND p.month = l.month
WHERE p.delivery_id IS DISTINCT FROM l.delivery_id
  AND (CAST($organisation AS VARCHAR) IS NULL OR coalesce(l.provider, p.provider) = $organisation)
ORDER BY provider, month;
