#!/bin/sh
# The outbox counts of /metrics on a national-size outbox (1.4 million
# rows), SQLite: the GROUP BY over the table that `Outbox::outbox_summary`
# ran before migration 0009, the migration's seeding of `outbox_tally`,
# and the read of the tally that replaced the GROUP BY. Needs `sqlite3`;
# writes about 400 MB under a temporary directory. See BENCHMARKS.md.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
m="$here/migrations/sqlite"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/outbox.db"
cat "$m/0002_outbox.sql" "$m/0005_outbox_counts.sql" "$m/0007_outbox_purged.sql" \
    "$m/0008_outbox_views.sql" | sqlite3 "$db"
sqlite3 "$db" > /dev/null <<'SQL'
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1400000)
INSERT INTO outbox (obligation_id, period_key, unit_id, kind, stage, recipient, rank, due_on,
                    status, next_attempt_at, attempts, created_at, updated_at)
SELECT 'bc-' || (i % 20), 'p' || (i / 80000), 'xa-' || (i % 4000),
       CASE i % 4 WHEN 0 THEN 'reminder' WHEN 1 THEN 'due_today' WHEN 2 THEN 'overdue'
                  ELSE 'escalation' END,
       i, 'vanthu' || (i % 4000) || '@x.vn', 1, '2026-06-30',
       CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 97 = 0 THEN 'failed'
            WHEN i % 13 = 0 THEN 'skipped' WHEN i % 11 = 0 THEN 'cancelled' ELSE 'sent' END,
       1780000000 + i, CASE WHEN i % 50 = 0 THEN 0 ELSE 1 + i % 2 END, 1780000000, 1780000000 + i
FROM n;
SQL
echo "GROUP BY over the outbox (before migration 0009), three runs:"
for _ in 1 2 3; do
    printf '.timer on\n%s;\n' "SELECT status, kind, CAST(SUM(n) AS BIGINT), \
        CAST(SUM(attempts) AS BIGINT), CAST(SUM(attempted) AS BIGINT) FROM (\
        SELECT status, kind, COUNT(*) AS n, COALESCE(SUM(attempts), 0) AS attempts, \
        COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS attempted \
        FROM outbox GROUP BY status, kind UNION ALL \
        SELECT status, kind, rows, attempts, attempted FROM outbox_purged) c \
        GROUP BY status, kind ORDER BY status, kind" | sqlite3 "$db" > "$dir/before.txt"
    grep 'Run Time' "$dir/before.txt"
done
echo "migration 0009 (seeds the tally from the table):"
(echo ".timer on"; cat "$m/0009_outbox_tally.sql") | sqlite3 "$db" | grep 'Run Time' | sed -n 2p
echo "the tally (after), three runs:"
for _ in 1 2 3; do
    printf '.timer on\n%s;\n' "SELECT status, kind, CAST(SUM(n) AS BIGINT), \
        CAST(SUM(attempts) AS BIGINT), CAST(SUM(attempted) AS BIGINT) FROM (\
        SELECT status, kind, rows AS n, attempts, attempted FROM outbox_tally UNION ALL \
        SELECT status, kind, rows, attempts, attempted FROM outbox_purged) c \
        GROUP BY status, kind HAVING SUM(n) > 0 ORDER BY status, kind" | sqlite3 "$db" > "$dir/after.txt"
    grep 'Run Time' "$dir/after.txt"
done
if [ "$(grep -v 'Run Time' "$dir/before.txt")" = "$(grep -v 'Run Time' "$dir/after.txt")" ]; then
    echo "same counts"
else
    echo "THE COUNTS DIFFER" >&2
    exit 1
fi
