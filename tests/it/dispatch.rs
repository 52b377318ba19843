//! The dispatcher's bound on unrecorded messages, on a real SQLite file and
//! a real SMTP server on 127.0.0.1: a message's `sent` record is written
//! while the lane's next message is with the server, and no further message
//! goes out on that lane before that record has committed, so at most two
//! messages per lane (`[mail.smtp] connections`, default 1) are ever
//! accepted by the server without being recorded (ARCHITECTURE.md, "The
//! bound on duplicates"). It does not test what the messages say.

use std::fmt::Write as _;
use std::time::Duration;

use hanbao::calendar::WorkCalendar;
use hanbao::config::model::Config;
use hanbao::mail::{Composer, Mailer, Templates};
use hanbao::outbox::{Dispatcher, Planning};
use hanbao::store::OutboxStatus;
use jiff::Timestamp;
use sqlx::Connection;

use crate::support::smtp::SmtpSink;
use hanbao::store::Outbox;

const UNITS: usize = 200;

/// `UNITS` units owing a one-off report due Thursday 25/6/2026, reminded
/// three days before (Monday 22/6/2026, a working day).
fn config(port: u16, connections: usize) -> Config {
    let mut t = format!(
        "[daemon]\nsending_hours = \"07:30-11:00\"\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"Sở Thử <baocao@so.example>\"\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         connections = {connections}\n\
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
    hanbao::config::load_str("dispatch.toml", &t)
        .expect("valid configuration")
        .config
}

/// Monday 22/6/2026 08:00 in Vietnam: the reminders are due.
fn now() -> Timestamp {
    "2026-06-22T01:00:00Z".parse().unwrap()
}

/// While another connection holds SQLite's write lock, the dispatcher
/// cannot record: the message whose record waits and the next one may be
/// with the server, never a third. Once the lock is released, everything
/// is sent and recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_two_messages_are_unrecorded_while_a_record_waits() {
    unrecorded_while_a_record_waits(1).await;
}

/// The same with three SMTP connections: three lanes, each with at most two
/// unrecorded messages, and more than one lane really sending at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_two_messages_per_connection_are_unrecorded_while_a_record_waits() {
    unrecorded_while_a_record_waits(3).await;
}

async fn unrecorded_while_a_record_waits(connections: usize) {
    let sink = SmtpSink::start().await;
    let cfg = config(sink.port(), connections);
    let cal = WorkCalendar::new(&cfg.calendar);
    let composer = Composer::new(&cfg.mail, Templates::builtin()).unwrap();
    let mailer = Mailer::new(&cfg.mail).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/hanbao.db", dir.path().display());
    let store = hanbao::store::open(&url).await.unwrap();
    let planned = Planning::default()
        .enqueue(&store, &cfg, &cal, now())
        .await
        .unwrap();
    assert_eq!(planned.pending, UNITS);
    let d = Dispatcher {
        cfg: &cfg,
        cal: &cal,
        composer: &composer,
        mailer: &mailer,
        owner: "test",
    };

    let blocker = async {
        let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
        // Take the write lock as soon as the dispatcher has claimed the rows.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let claimed: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status <> 'pending'")
                    .fetch_one(&mut other)
                    .await
                    .unwrap();
            if claimed as usize == UNITS {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never claimed");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();
        let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
            .fetch_one(&mut other)
            .await
            .unwrap();
        // Give the dispatcher ample time to run ahead if it could.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let at_server = sink.message_count();
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
        (recorded as usize, at_server)
    };
    let (report, (recorded, at_server)) = tokio::join!(d.run(&store, &now), blocker);
    let report = report.unwrap();

    assert!(
        recorded < UNITS - 2,
        "the lock came too late to test anything: {recorded} already recorded"
    );
    let unrecorded = at_server - recorded;
    assert!(
        (1..=2 * connections).contains(&unrecorded),
        "{at_server} messages at the server with {recorded} recorded while the lock was held \
         ({connections} connections)"
    );
    if connections > 1 {
        assert!(
            unrecorded > 2,
            "{unrecorded} unrecorded: the {connections} lanes did not send side by side"
        );
    }
    assert_eq!(mailer.connections_opened(), connections);
    assert_eq!(report.sent.len(), UNITS);
    assert_eq!(sink.message_count(), UNITS, "each message sent once");
    let rows = store.outbox(None).await.unwrap();
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    store.close().await;
}
