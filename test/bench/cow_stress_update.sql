\set k random(1, 4000)
UPDATE stress SET v = v + 1, ts = ts + 1 WHERE id BETWEEN :k AND :k + 5;
