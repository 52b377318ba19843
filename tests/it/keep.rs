//! Keeping the record: upgrades from every earlier schema with data in it
//! (both backends), the refusal of a database a newer hanbao migrated,
//! `hanbao --version`, and `backup` / `restore` / `verify-db` on the real
//! binary, a backup taken while the dispatcher sends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hanbao::store::{
    self, HistoryFilter, Key, NewSubmission, OutboxStatus, SCHEMA_VERSION, Source, StoreError,
    TokenRole,
};
use hanbao::store::{Files, Outbox, Records, Tokens};
use jiff::Timestamp;
use jiff::civil::date;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::support::backend::{Backend, stories};

stories!(
    every_earlier_schema_with_data_is_migrated_forward,
    a_database_from_a_newer_hanbao_is_refused_and_untouched,
);

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The migration files of `backend`, in order, as sqlx records them
/// (version and description from the file name, as `migrations!` has them).
fn migration_files(backend: &str) -> Vec<(i64, String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(repo(&format!("migrations/{backend}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap();
            let (n, desc) = stem.split_once('_').unwrap();
            (
                n.parse().unwrap(),
                desc.replace('_', " "),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect()
}

/// The data fixture written right after migration `version`.
fn fixture(version: i64) -> String {
    std::fs::read_to_string(repo(&format!("tests/fixtures/migrations/{version:04}.sql"))).unwrap()
}

/// Runs `$body` with `$pool` a pool of the backend of `$url`.
macro_rules! with_pool {
    ($url:expr, $pool:ident => $body:expr) => {
        if $url.starts_with("sqlite") {
            let options: sqlx::sqlite::SqliteConnectOptions = $url.parse().unwrap();
            let $pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                .await
                .unwrap();
            $body;
            $pool.close().await;
        } else {
            let $pool = sqlx::PgPool::connect($url).await.unwrap();
            $body;
            $pool.close().await;
        }
    };
}

/// Builds the database at `url` as hanbao at schema `upto` left it: each
/// migration up to `upto` applied by sqlx (recorded in `_sqlx_migrations`
/// exactly as the binary records it), each followed by its data fixture.
async fn build_at(url: &str, upto: i64) {
    use sqlx::SqlSafeStr as _;
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    for (version, desc, sql) in migration_files(backend) {
        if version > upto {
            break;
        }
        let mut one = Migrator::with_migrations(vec![Migration::new(
            version,
            desc.into(),
            MigrationType::Simple,
            sqlx::AssertSqlSafe(sql).into_sql_str(),
            false,
        )]);
        // Earlier versions are recorded already: tell sqlx they exist.
        one.set_ignore_missing(true);
        with_pool!(url, pool => {
            one.run(&pool).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(fixture(version)))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("fixture {version}: {e}"))
        });
    }
}

/// What the fixtures up to `v` hold, counted: (events, outbox rows, tokens, purged).
fn expected(v: i64) -> (u64, u64, u64, u64) {
    // Schema 10 (files) adds rows of its own table, counted in `files_kept`.
    // Schema 11 (the watched mailbox) adds a submission by email, schema
    // 12 the acknowledgement owed for it (an outbox row of its new kind).
    let events = match v {
        ..=2 => 5,
        3..=10 => 6,
        _ => 7,
    };
    let outbox = match v {
        1 => 0,
        2..=4 => 3,
        5..=7 => 4,
        8 => 5,
        9..=11 => 6,
        _ => 7,
    };
    let tokens = match v {
        ..=3 => 0,
        4 | 5 => 2,
        _ => 4,
    };
    let purged = if v >= 7 { 40 } else { 0 };
    (events, outbox, tokens, purged)
}

/// From every schema, with data written at each step: opening migrates
/// forward to the latest, keeps every row (Vietnamese text included), and
/// the store works on the result (a new submission, the outbox summary,
/// the tokens). `verify-db`'s inspection agrees before and after.
async fn every_earlier_schema_with_data_is_migrated_forward(b: &Backend) {
    let versions: Vec<i64> = migration_files(if b.url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    })
    .iter()
    .map(|m| m.0)
    .collect();
    // Versions increase; a number may be left free for a migration of a
    // parallel line of work (sqlx applies whatever is missing, in order).
    assert_eq!(
        versions.last(),
        Some(&SCHEMA_VERSION),
        "a migration file per version"
    );
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
    for &v in &versions {
        let db = if b.url.starts_with("sqlite") {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/v{v}.db", dir.path().display());
            (url, Some(dir))
        } else {
            (crate::support::pg::fresh_database(), None)
        };
        let url = &db.0;
        build_at(url, v).await;
        let (events, outbox, tokens, purged) = expected(v);
        let before = store::inspect(url).await.unwrap();
        assert_eq!(before.schema.latest, v);
        assert_eq!(before.counts.events, events, "schema {v}");
        assert!(before.is_ok(), "schema {v}: {before:?}");

        let s = store::open(url).await.unwrap();
        let applied: Vec<i64> = s
            .applied_migrations()
            .await
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(applied, versions);
        let history = s.history(&HistoryFilter::default()).await.unwrap();
        assert_eq!(history.len() as u64, events, "schema {v}");
        assert_eq!(
            history[0].note.as_deref(),
            Some("bản giấy, đóng dấu đỏ"),
            "schema {v}"
        );
        let rows = s.outbox(None).await.unwrap();
        assert_eq!(rows.len() as u64, outbox, "schema {v}");
        if v >= 2 {
            assert!(rows.iter().any(|r| r.status == OutboxStatus::Failed));
        }
        let summary = s.outbox_summary().await.unwrap();
        assert_eq!(
            summary.counts.iter().map(|c| c.rows).sum::<u64>(),
            outbox + purged,
            "schema {v}"
        );
        // The tally the upgrade seeded (or, from schema 9 on, the triggers
        // kept) counts exactly the rows the database had.
        assert_eq!(
            crate::outbox::tallied(&s).await,
            crate::outbox::counted_by_hand(url).await,
            "schema {v}"
        );
        let kept = s
            .files_for(&Key::new("bc-nam", "2025", "xa-an-phu"))
            .await
            .unwrap();
        assert_eq!(kept.len(), if v >= 10 { 1 } else { 0 }, "schema {v}");
        if let Some(f) = kept.first() {
            assert_eq!(f.name, "Báo cáo năm 2025.pdf");
        }
        let t = s.tokens().await.unwrap();
        assert_eq!(t.len() as u64, tokens, "schema {v}");
        if v >= 6 {
            assert!(t.iter().any(|t| t.role == TokenRole::Metrics));
        }
        // The store writes on the migrated database (identity sequences
        // continue after the fixtures' rows).
        let new = NewSubmission {
            key: Key::new("bc-nam", "2025", "xa-ba-to"),
            received_on: date(2025, 12, 5),
            received_at: None,
            reference: Some("90/BC".into()),
            note: None,
            actor: "văn thư".into(),
            source: Source::Cli,
            correction: false,
        };
        s.record_submission(new, Timestamp::from_second(1_765_000_000).unwrap())
            .await
            .unwrap();
        s.close().await;

        let after = store::inspect(url).await.unwrap();
        assert!(after.is_ok(), "schema {v}: {after:?}");
        assert_eq!(after.schema.latest, SCHEMA_VERSION);
        assert_eq!(after.counts.events, events + 1);
        assert_eq!(after.counts.outbox_purged, purged);
        assert_eq!(after.counts.tokens, tokens);
    }
}

/// A database whose `_sqlx_migrations` records a version this binary does
/// not have is refused with a Vietnamese message naming both versions, and
/// left exactly as it was.
async fn a_database_from_a_newer_hanbao_is_refused_and_untouched(b: &Backend) {
    let s = b.open().await;
    s.close().await;
    let newer = SCHEMA_VERSION + 1;
    let checksum = if b.url.starts_with("sqlite") {
        "X'00'"
    } else {
        "'\\x00'::bytea"
    };
    let insert = format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({newer}, 'from the future', TRUE, {checksum}, 0)"
    );
    with_pool!(&b.url, pool => {
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .execute(&pool)
            .await
            .unwrap()
    });
    let file = hanbao::environment::sqlite_file(&b.url);
    let files = |f: &Path| {
        let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(f.parent().unwrap())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    };
    let before = file.as_deref().map(files);
    let Err(err) = store::open(&b.url).await else {
        panic!("a newer schema was opened")
    };
    assert!(
        matches!(err, StoreError::NewerSchema { found, known } if found == newer && known == SCHEMA_VERSION),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "phiên bản {newer}, mới hơn phiên bản {SCHEMA_VERSION}"
        )),
        "{text}"
    );
    assert!(text.contains("Không mở và không thay đổi gì"), "{text}");
    let after = file.as_deref().map(files);
    let names = |f: &Option<Vec<(String, Vec<u8>)>>| {
        f.iter()
            .flatten()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&after), names(&before));
    assert!(after == before, "the files are byte for byte as they were");
    let v = store::inspect(&b.url).await.unwrap();
    assert_eq!(v.schema.latest, newer);
    assert!(!v.is_ok());
}

fn hanbao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .args(args)
        .env_remove("HANBAO_CONFIG")
        .env_remove("HANBAO_STATE_DIR")
        .env_remove("HANBAO_DATABASE")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = hanbao(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "hanbao {args:?}:\n{stdout}\n{stderr}");
    stdout
}

/// Like [`ok`], and nothing on stderr (no progress drawn off a terminal).
fn ok_quietly(args: &[&str]) -> String {
    let out = hanbao(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hanbao {args:?}:\n{stderr}");
    assert!(stderr.is_empty(), "hanbao {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(args: &[&str]) -> String {
    let out = hanbao(args);
    assert!(!out.status.success(), "hanbao {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn version_names_the_schema_it_expects() {
    let out = ok(&["--version"]);
    assert_eq!(
        out.trim(),
        format!(
            "hanbao {} (lược đồ cơ sở dữ liệu {SCHEMA_VERSION})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

const UNITS: usize = 40;

fn write_config(dir: &Path, port: u16) -> PathBuf {
    use std::fmt::Write as _;
    let mut t = format!(
        "[daemon]\nsending_hours = \"07:30-11:00\"\nhttp_listen = \"127.0.0.1:0\"\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         [[unit]]\nid = \"so\"\nname = \"Sở\"\nemail = \"vanthu@so.example\"\n"
    );
    let mut reporters = String::new();
    for i in 0..UNITS {
        let _ = write!(
            t,
            "[[unit]]\nid = \"xa-{i}\"\nname = \"UBND xã {i}\"\nemail = \"vanthu@xa-{i}.example\"\n"
        );
        let _ = write!(reporters, "\"xa-{i}\",");
    }
    let _ = write!(
        t,
        "[[obligation]]\nid = \"bc-thu\"\ntitle = \"Báo cáo thử\"\n\
         reporters = [{reporters}]\nrecipient = \"so\"\ncycle = \"once\"\ndue = \"25/06/2026\"\n\
         reminders = [\"3 ngày\"]\n"
    );
    let path = dir.join("hanbao.toml");
    std::fs::write(&path, t).unwrap();
    path
}

/// The backup is taken while the dispatcher is sending (an SMTP server
/// that answers slowly): the copy is one instant of the outbox (every row,
/// some sent, some not), the daemon's sends are not held up, and restored
/// into a fresh state directory it gives the same `status --json` and
/// `history` as the database it was taken from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_a_dispatch_run_restores_to_the_same_status_and_history() {
    use hanbao::calendar::WorkCalendar;
    use hanbao::mail::{Composer, Mailer, Templates};
    use hanbao::outbox::{Dispatcher, Planning};

    let sink = crate::support::smtp::SmtpSink::start().await;
    sink.set_reply_delay(Duration::from_millis(15));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let config = write_config(&root, sink.port());
    let cfg = hanbao::config::load(&config).unwrap().config;
    let db = root.join("state/hanbao.db");
    let url = format!("sqlite://{}", db.display());
    let s = store::open(&url).await.unwrap();
    for i in 0..5 {
        let sub = NewSubmission {
            key: Key::new("bc-thu", "bc-thu", format!("xa-{i}")),
            received_on: date(2026, 6, 20),
            received_at: None,
            reference: Some(format!("{i}/BC-UBND")),
            note: Some("bản điện tử".into()),
            actor: "văn thư".into(),
            source: Source::Cli,
            correction: false,
        };
        s.record_submission(sub, "2026-06-20T03:00:00Z".parse().unwrap())
            .await
            .unwrap();
    }
    let now: Timestamp = "2026-06-22T01:00:00Z".parse().unwrap();
    let cal = WorkCalendar::new(&cfg.calendar);
    let planned = Planning::default()
        .enqueue(&s, &cfg, &cal, now)
        .await
        .unwrap();
    assert_eq!(planned.pending, UNITS - 5);
    let composer = Composer::new(&cfg.mail, Templates::builtin()).unwrap();
    let mailer = Mailer::new(&cfg.mail).unwrap();
    let d = Dispatcher {
        cfg: &cfg,
        cal: &cal,
        composer: &composer,
        mailer: &mailer,
        owner: "test",
    };
    let backup = root.join("sao-luu/hanbao-2026-06-22.db");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    let config_arg = config.to_str().unwrap().to_string();
    let db_arg = db.to_str().unwrap().to_string();
    let backup_arg = backup.to_str().unwrap().to_string();
    // The run cannot end before the backup does, however fast the machine:
    // the last messages wait at the server until the backup has finished.
    sink.hold_replies_after(UNITS - 5 - 3);
    let taking = async {
        sink.wait_for_messages(10, Duration::from_secs(30)).await;
        let at_start = sink.message_count();
        let out = tokio::task::spawn_blocking(move || {
            ok_quietly(&[
                "--config",
                &config_arg,
                "--database",
                &db_arg,
                "backup",
                &backup_arg,
            ])
        })
        .await
        .unwrap();
        let at_end = sink.message_count();
        sink.release_replies();
        (at_start, at_end, out)
    };
    let clock = || now;
    let (report, (at_start, at_end, out)) = tokio::join!(d.run(&s, &clock), taking);
    report.unwrap();
    assert!(out.contains("Đã sao lưu"), "{out}");
    assert!(out.contains("Kết quả: tốt"), "{out}");
    assert!(
        at_start >= 10 && at_end < UNITS - 5,
        "the backup ended after the run ({at_start}..{at_end} sent): it tested nothing"
    );
    assert_eq!(sink.message_count(), UNITS - 5);
    s.close().await;

    // The copy: every row, some sent and some still to send.
    let v = store::inspect(&format!("sqlite://{}", backup.display()))
        .await
        .unwrap();
    assert!(v.is_ok(), "{v:?}");
    let rows: u64 = v.counts.outbox.values().sum();
    assert_eq!(rows, (UNITS - 5) as u64);
    let sent = v
        .counts
        .outbox
        .get(&OutboxStatus::Sent)
        .copied()
        .unwrap_or(0);
    // Messages at the server may wait for their record (at most two per
    // lane): some sent, the rest claimed (`sending`) or still pending.
    assert!(sent >= 1 && sent < rows, "{:?}", v.counts.outbox);
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // No leftover partial file.
    let left: Vec<_> = std::fs::read_dir(backup.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");

    // A second backup to the same name is refused without --force.
    let config = config.to_str().unwrap();
    let db = db.to_str().unwrap();
    let backup = backup.to_str().unwrap();
    let err = refused(&["--config", config, "--database", db, "backup", backup]);
    assert!(err.contains("--force"), "{err}");

    // Restore into a fresh state directory.
    let fresh = root.join("moi");
    let out = ok(&[
        "--config",
        config,
        "--state-dir",
        fresh.to_str().unwrap(),
        "restore",
        backup,
    ]);
    assert!(out.contains("Đã khôi phục"), "{out}");
    assert!(fresh.join("hanbao.db").is_file());
    let fresh = fresh.to_str().unwrap();
    let original = |args: &[&str]| {
        let mut all = vec!["--config", config, "--database", db];
        all.extend_from_slice(args);
        ok(&all)
    };
    let restored = |args: &[&str]| {
        let mut all = vec!["--config", config, "--state-dir", fresh];
        all.extend_from_slice(args);
        ok(&all)
    };
    for args in [&["status", "--json"][..], &["history"]] {
        let (a, b) = (original(args), restored(args));
        assert!(!a.trim().is_empty());
        assert_eq!(a, b, "{args:?}");
    }
    let out = restored(&["verify-db"]);
    assert!(out.contains("Lịch sử: 5 sự kiện (5 lần nộp"), "{out}");
    assert!(out.contains("Kết quả: tốt"), "{out}");
    let out = ok(&["verify-db", backup]);
    assert!(
        out.contains(&format!("Lược đồ: phiên bản {SCHEMA_VERSION}, đúng")),
        "{out}"
    );
}

/// `restore` checks the backup before anything, refuses to replace a
/// database holding data without `--force` (and keeps it aside with it),
/// and never replaces a database another process has open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_to_overwrite_a_live_database() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let config = write_config(&root, 25);
    let config = config.to_str().unwrap();
    let state = root.join("state");
    let state_arg = state.to_str().unwrap();
    let db = state.join("hanbao.db");
    let backup = root.join("backup.db");
    let backup_arg = backup.to_str().unwrap();

    // A backup of a database with one submission.
    let s = store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let sub = |unit: &str, reference: &str| NewSubmission {
        key: Key::new("bc-thu", "bc-thu", unit),
        received_on: date(2026, 6, 20),
        received_at: None,
        reference: Some(reference.into()),
        note: None,
        actor: "văn thư".into(),
        source: Source::Cli,
        correction: false,
    };
    s.record_submission(
        sub("xa-1", "1/BC"),
        Timestamp::from_second(1_781_000_000).unwrap(),
    )
    .await
    .unwrap();
    s.close().await;
    ok(&[
        "--config",
        config,
        "--state-dir",
        state_arg,
        "backup",
        backup_arg,
    ]);
    // The database moves on.
    let s = store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    s.record_submission(
        sub("xa-2", "2/BC"),
        Timestamp::from_second(1_781_000_100).unwrap(),
    )
    .await
    .unwrap();

    // Open (as a running daemon has it): refused, even with --force.
    for force in [false, true] {
        let mut args = vec![
            "--config",
            config,
            "--state-dir",
            state_arg,
            "restore",
            backup_arg,
        ];
        if force {
            args.push("--force");
        }
        let err = refused(&args);
        assert!(err.contains("đang được một tiến trình khác mở"), "{err}");
    }
    s.close().await;
    // Closed but holding data: refused without --force.
    let err = refused(&[
        "--config",
        config,
        "--state-dir",
        state_arg,
        "restore",
        backup_arg,
    ]);
    assert!(err.contains("đã có dữ liệu; thêm --force"), "{err}");
    let history = |state: &str| {
        ok(&["--config", config, "--state-dir", state, "history"])
            .lines()
            .count()
    };
    assert_eq!(history(state_arg), 3, "nothing changed");
    // A file that is not a database is refused before anything.
    let junk = root.join("junk.db");
    std::fs::write(&junk, "không phải cơ sở dữ liệu").unwrap();
    let err = refused(&[
        "--config",
        config,
        "--state-dir",
        state_arg,
        "restore",
        junk.to_str().unwrap(),
        "--force",
    ]);
    assert!(err.contains("bản sao lưu"), "{err}");
    assert_eq!(history(state_arg), 3, "nothing changed");

    // With --force: the backup's state, the old database kept aside.
    let out = ok(&[
        "--config",
        config,
        "--state-dir",
        state_arg,
        "restore",
        backup_arg,
        "--force",
    ]);
    assert!(out.contains("được giữ lại"), "{out}");
    assert_eq!(history(state_arg), 2, "header and the one submission");
    let kept: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            n.starts_with("hanbao.db.before-restore-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let v = store::inspect(&format!("sqlite://{}", state.join(&kept[0]).display()))
        .await
        .unwrap();
    assert_eq!(v.counts.submissions, 2, "the replaced database, whole");
}

/// PostgreSQL, README's way: `pg_dump --format=custom`, `pg_restore
/// --no-owner` into an empty database, `hanbao verify-db` on it; the copy
/// has the same history. `hanbao backup` on PostgreSQL says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_are_pg_dump_and_verify_db() {
    let bin = crate::support::pg::find_bin_dir().expect("PostgreSQL binaries");
    let original = crate::support::pg::fresh_database();
    let s = store::open(&original).await.unwrap();
    for unit in ["xa-1", "xa-2"] {
        let sub = NewSubmission {
            key: Key::new("bc-thu", "bc-thu", unit),
            received_on: date(2026, 6, 20),
            received_at: None,
            reference: Some("1/BC-UBND".into()),
            note: Some("bản điện tử".into()),
            actor: "văn thư".into(),
            source: Source::Cli,
            correction: false,
        };
        s.record_submission(sub, Timestamp::from_second(1_781_000_000).unwrap())
            .await
            .unwrap();
    }
    s.close().await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("hanbao.dump");
    let status = Command::new(bin.join("pg_dump"))
        .args([
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            &original,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let copy = crate::support::pg::fresh_database();
    let status = Command::new(bin.join("pg_restore"))
        .args(["--no-owner", "--dbname", &copy, dump.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());

    let config = write_config(dir.path(), 25);
    let config = config.to_str().unwrap();
    let out = ok(&["--config", config, "--database", &copy, "verify-db"]);
    assert!(out.contains("Lịch sử: 2 sự kiện (2 lần nộp"), "{out}");
    assert!(out.contains("Kết quả: tốt"), "{out}");
    assert_eq!(
        ok(&["--config", config, "--database", &original, "history"]),
        ok(&["--config", config, "--database", &copy, "history"])
    );
    let err = refused(&[
        "--config",
        config,
        "--database",
        &original,
        "backup",
        dir.path().join("x.db").to_str().unwrap(),
    ]);
    assert!(err.contains("pg_dump --format=custom"), "{err}");
}
