-- published_count(n, r, floor_k): a count as published. With r > 1 it is rounded to the nearest
-- multiple of r (halves up), but never below floor_k: a shown count below k would read as a
-- small group (the smallest multiple of r that is at least floor_k is shown instead). With
-- r = 0 or 1 the true count. Only counts are rounded; shares and means use the true counts.
CREATE OR REPLACE TEMP MACRO published_count(n, r, floor_k) AS
    CASE WHEN r > 1
         THEN greatest(((2 * n + r) // (2 * r)) * r, ((floor_k + r - 1) // r) * r)
         ELSE n END;
