\set k random(1, 4000)
\set n random(1, 50)
INSERT INTO stress SELECT (:k + g) % 4000 + 1, (:k + g) % 100, extract(epoch from clock_timestamp())::bigint * 1000000 + g, 'u', (g % 17 = 0) FROM generate_series(1, :n) g;
