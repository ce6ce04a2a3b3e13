VACUUM stress;
SELECT pg_sleep(0.2);
