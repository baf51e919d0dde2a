-- What a build is made from: the deliveries in force and every privacy action that changes staging.
SELECT
    coalesce(list(delivery_id || '@' || strftime(received_at, '%Y-%m-%dT%H:%M:%S.%f')
                  ORDER BY delivery_id), []) AS deliveries,
    coalesce(list(delivery_id ORDER BY delivery_id), []) AS delivery_ids,
    (SELECT count(*) FROM privacy.objections) AS objections,
    (SELECT count(*) FROM privacy.erasures) AS erasures,
    (SELECT count(*) FROM privacy.key_rotations) AS rotations
FROM staging.deliveries
WHERE is_current;
