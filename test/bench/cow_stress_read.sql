\set k random(0, 99)
SELECT count(*) FROM stress WHERE v = :k;
SELECT count(*), count(DISTINCT id) FROM stress;
