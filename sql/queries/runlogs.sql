-- Run logs: chunks of consecutive lines (NDJSON), written by workers in batches, read by page.

-- name: insert_log_chunks
-- One statement for any number of chunks of any number of runs. A chunk is kept only while the
-- attempt that wrote it is still the run's latest, so a worker that lost its lease cannot number
-- over the lines of the attempt that replaced it; a repeat of a chunk already stored changes nothing.
INSERT INTO run_log_chunks (run_id, first_n, last_n, lines)
SELECT c.run_id, c.first_n, c.last_n, c.lines
FROM unnest(CAST(:run_ids AS uuid[]), CAST(:attempts AS int[]), CAST(:first_n AS int[]),
            CAST(:last_n AS int[]), CAST(:lines AS bytea[])) AS c(run_id, attempt, first_n, last_n, lines)
JOIN runs r ON r.id = c.run_id AND r.attempt = c.attempt
ON CONFLICT (run_id, first_n) DO NOTHING;

-- name: run_log_page
-- The chunks holding lines after :after up to :upto (numbering is dense, so a range is a page).
SELECT first_n, last_n, lines FROM run_log_chunks
WHERE run_id = :run_id AND first_n <= :upto AND last_n > :after
ORDER BY first_n;

-- name: last_log_line
SELECT coalesce(max(last_n), 0) FROM run_log_chunks WHERE run_id = :run_id;
