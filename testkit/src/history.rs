//! Benchmark fixture: bulk-loads `rows` historical submissions straight into
//! the `events` table (plain SQL, fixture data only, never product code):
//! 20 obligations `nqNN-bao-cao`, 4,000 units `don-vi-NNNN`, 13 monthly
//! periods before 2026-01. Shared by `benches/store.rs` and
//! `benches/status.rs`; `analyze` refreshes the planner statistics after.

/// Loads the rows in one statement on either backend (chosen by the URL).
pub async fn bulk_load_history(url: &str, rows: i64, analyze: bool) {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
             INSERT INTO events (obligation_id, period_key, unit_id, subject, action, received_on, \
                 received_at, reference, due_on, note, actor, source, recorded_at) \
             SELECT printf('nq%02d-bao-cao', i % 20), \
                    printf('%04d-%02d', 2025 - (i / 80000) / 12, 1 + (i / 80000) % 12), \
                    printf('don-vi-%04d', (i / 20) % 4000), 'submission', 'submit', \
                    printf('%04d-%02d-05', 2025 - (i / 80000) / 12, 1 + (i / 80000) % 12), \
                    NULL, printf('%d/BC', i), NULL, NULL, 'Nhập lịch sử', 'import', 1700000000 + i \
             FROM n",
            last = rows - 1
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
        if analyze {
            sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let sql = format!(
            "INSERT INTO events (obligation_id, period_key, unit_id, subject, action, received_on, \
                 received_at, reference, due_on, note, actor, source, recorded_at) \
             SELECT format('nq%s-bao-cao', lpad((i % 20)::text, 2, '0')), \
                    format('%s-%s', 2025 - (i / 80000) / 12, lpad((1 + (i / 80000) % 12)::text, 2, '0')), \
                    format('don-vi-%s', lpad(((i / 20) % 4000)::text, 4, '0')), 'submission', 'submit', \
                    format('%s-%s-05', 2025 - (i / 80000) / 12, lpad((1 + (i / 80000) % 12)::text, 2, '0')), \
                    NULL, i || '/BC', NULL, NULL, 'Nhập lịch sử', 'import', 1700000000 + i \
             FROM generate_series(0, {last}) AS i",
            last = rows - 1
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
        if analyze {
            sqlx::query("ANALYZE events").execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    }
}
