-- Log-scale bins for latencies (run duration, queue wait), so percentiles can be rolled up and merged:
-- bin k holds (1 ms * 1.04^(k-1), 1 ms * 1.04^k]; bin 0 holds everything up to 1 ms. A bin's value is
-- the point with the same relative distance to both edges, so a percentile read from bins is within 2 %
-- of the exact one (the DDSketch construction). 1 ms to one day needs 465 bins.
CREATE OR REPLACE FUNCTION latency_bin(seconds float8) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN seconds <= 0.001 THEN 0 ELSE ceil(ln(seconds / 0.001) / ln(1.04))::int END $$;

CREATE OR REPLACE FUNCTION latency_bin_value(bin int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN bin <= 0 THEN 0.0 ELSE 0.001 * power(1.04, bin) * 2 / (1 + 1.04) END $$;
