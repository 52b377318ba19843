//! `/confirm`: the page a one-click link from a reminder opens, and the form
//! it posts, recording the submission with source "link". Its route is
//! here, beside its handlers; its pages are `confirm/*.html` templates of
//! `http::html` (auto-escaped), styled like the dashboard (its stylesheet,
//! allowed by hash in the same Content-Security-Policy), naming the agency
//! that asks for the report ([`agency_name`]: the directive's sender, as
//! in the notices) and saying what happens after the click and whom to
//! contact ([`agency_contact`]: the directive's contact).
//!
//! The link's HMAC signature is the only credential: it names one
//! (obligation, period, unit) and expires. A tampered link gets 400, an
//! expired one 410, each with a page that says so in Vietnamese; using a
//! link twice is harmless (the store answers "already recorded"). The day
//! is typed as dd/mm/yyyy text (`http::date_field`), other values checked
//! by `crate::input` (422: the form again, with the message and what was
//! typed). The first post echoes the day in words (200, nothing written);
//! only its "Xác nhận" (`step=record`) records, "Sửa lại" (`step=edit`)
//! shows the form again. Must not: send mail, accept a write whose
//! signature was not checked, or write on a post that is not
//! `step=record`.

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::config::model::{Config, Language, Obligation};
use crate::config::values::{format_date, parse_mailbox};
use crate::input::{self, Field};
use crate::store::{Key, NewSubmission, Recorded, Source, StoreError};

use super::AppState;
use super::date_field::{self, Step};
use super::html::{self, Check, Hidden};
use super::link::{LinkError, LinkScope};
use super::selection;
use crate::store::{Files, Records};

pub fn routes(upload_limit: axum::extract::DefaultBodyLimit) -> Router<AppState> {
    Router::new()
        .route("/confirm", get(show).post(submit))
        .route(
            "/confirm/files",
            axum::routing::post(upload_files).layer(upload_limit),
        )
}

/// Who asks for the report, as the confirmation pages name it: the agency
/// that speaks in the obligation's notices (its directive's or its own
/// `sender`, the name of that unit), else the display name of `[mail]
/// from`, else of `[mail] reply_to`; `None` when there is none of these
/// (the pages then say "cơ quan theo dõi"). The same agency as the
/// notices' (`outbox::voice::speaker`).
pub(crate) fn agency_name(cfg: &Config, obligation: &Obligation) -> Option<String> {
    obligation
        .voice
        .sender
        .as_ref()
        .and_then(|s| cfg.unit(&s.agency))
        .map(|u| u.name.clone())
        .or_else(|| display_name(&cfg.mail.from))
        .or_else(|| cfg.mail.reply_to.as_deref().and_then(display_name))
}

/// The agency the dashboard names: [`agency_name`] of the obligation that
/// speaks for the whole configuration (`outbox::voice::coordinating_obligation`,
/// as the digest), else the display name of `[mail] from`.
pub(crate) fn coordinator_name(cfg: &Config) -> Option<String> {
    match crate::outbox::voice::coordinating_obligation(cfg) {
        Some(ob) => agency_name(cfg, ob),
        None => display_name(&cfg.mail.from),
    }
}

/// Whom a unit contacts about a confirmation (a mistake to correct): the
/// obligation's `contact` (name, title, phone, email), as its notices end;
/// without one, `[mail] reply_to`, else `[mail] from`.
pub(crate) fn agency_contact(cfg: &Config, obligation: &Obligation) -> Contact {
    if let Some(c) = &obligation.voice.contact {
        return Contact {
            name: Some(c.name.clone()),
            title: c.title.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
        };
    }
    let mailbox = cfg.mail.reply_to.as_deref().unwrap_or(&cfg.mail.from);
    Contact {
        name: display_name(mailbox),
        title: None,
        phone: None,
        email: Some(parse_mailbox(mailbox).unwrap_or(mailbox).to_string()),
    }
}

/// The display name of a mailbox (`Name <addr>` or `"Name" <addr>`).
fn display_name(mailbox: &str) -> Option<String> {
    let (name, _) = mailbox.trim().rsplit_once('<')?;
    let name = name.trim();
    let name = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name)
        .trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// A person or office to contact, as the pages show them
/// (`confirm/contact.html`): at least a phone number or an email address.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Contact {
    name: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// A page: template `name` (which extends `confirm/frame.html`) with
/// `view`'s fields, naming `agency` in its top bar.
fn page(
    status: StatusCode,
    name: &str,
    title: &str,
    agency: Option<&str>,
    view: &impl Serialize,
) -> Response {
    #[derive(Serialize)]
    struct Frame<'a> {
        title: &'a str,
        agency: Option<&'a str>,
    }
    match html::render(name, &Frame { title, agency }, view) {
        Ok(page) => {
            let mut resp = (status, Html(page)).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, html::csp());
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, template = name, "confirmation link: cannot render a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi khi dựng trang; xem nhật ký của hanbao.",
            )
                .into_response()
        }
    }
}

/// A page with one message.
fn message(status: StatusCode, title: &str, text: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        text: &'a str,
    }
    page(
        status,
        "confirm/message.html",
        title,
        None,
        &Message { text },
    )
}

/// The link's fields, as in [`LinkScope::path`].
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    o: String,
    p: String,
    u: String,
    e: i64,
    s: String,
}

impl LinkQuery {
    fn scope(&self) -> LinkScope {
        LinkScope {
            obligation: self.o.clone(),
            period: self.p.clone(),
            unit: self.u.clone(),
            expires: self.e,
        }
    }
}

/// The form: the link's fields (not flattened: serde's flatten cannot read
/// the expiry as a number from a form) and what was typed.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    o: String,
    p: String,
    u: String,
    e: i64,
    s: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    step: Step,
}

impl ConfirmForm {
    fn link(&self) -> LinkQuery {
        LinkQuery {
            o: self.o.clone(),
            p: self.p.clone(),
            u: self.u.clone(),
            e: self.e,
            s: self.s.clone(),
        }
    }
}

fn bad_link() -> Response {
    message(
        StatusCode::BAD_REQUEST,
        "Liên kết không hợp lệ",
        "Liên kết này không đúng hoặc đã bị sửa. Hãy mở lại liên kết trong thư nhắc, hoặc liên hệ bộ phận theo dõi báo cáo.",
    )
}

/// What a checked link names, as the pages show it, and who asks for it.
#[derive(Debug, Serialize)]
struct Report {
    #[serde(skip)]
    key: Key,
    /// The first day of the period's window: no receipt before it.
    #[serde(skip)]
    opens: Date,
    title: String,
    /// In words ("quý I năm 2026").
    period: String,
    unit_name: String,
    /// The weekday and dd/mm/yyyy ("thứ Sáu, ngày 20/03/2026").
    due: String,
    /// Where the report goes, as configured (`submission.to`).
    submit_to: Option<String>,
    #[serde(skip)]
    agency: Option<String>,
    #[serde(skip)]
    contact: Contact,
}

/// Checks that links are on, that the signature and expiry hold and that
/// the configuration still has the report; what it names, or the page
/// that says why not.
fn open(state: &AppState, q: &LinkQuery) -> Result<Report, Box<Response>> {
    // One snapshot for the whole check: the key and the report it names
    // come from the same reload.
    let live = state.live();
    let Some(key) = live.link_key() else {
        return Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Chưa bật xác nhận qua liên kết",
            "Máy chủ này chưa được cấu hình khóa ký liên kết xác nhận.",
        )));
    };
    let scope = q.scope();
    match scope.verify(key, &q.s, Timestamp::now()) {
        Ok(()) => {}
        Err(LinkError::Tampered) => return Err(Box::new(bad_link())),
        Err(LinkError::Expired) => {
            return Err(Box::new(message(
                StatusCode::GONE,
                "Liên kết đã hết hạn",
                "Liên kết xác nhận này đã hết hạn. Hãy dùng liên kết trong thư nhắc mới nhất, hoặc báo cho bộ phận theo dõi báo cáo.",
            )));
        }
    }
    match selection::deadline(
        &live.cfg,
        &live.cal,
        &scope.obligation,
        &scope.period,
        &scope.unit,
    ) {
        Ok(d) => Ok(Report {
            key: Key::new(&d.obligation.id, d.period.to_string(), &d.unit.id),
            opens: d.window.start,
            title: d.obligation.title.clone(),
            period: crate::outbox::period_ref(&d.period.to_string(), Language::Vi).label,
            unit_name: d.unit.name.clone(),
            due: format!(
                "{}, ngày {}",
                date_field::weekday(d.due),
                format_date(d.due)
            ),
            submit_to: d.obligation.voice.submission.as_ref().map(|s| s.to.clone()),
            agency: agency_name(&live.cfg, d.obligation),
            contact: agency_contact(&live.cfg, d.obligation),
        }),
        Err(_) => Err(Box::new(message(
            StatusCode::NOT_FOUND,
            "Không tìm thấy báo cáo",
            "Báo cáo mà liên kết này nói đến không còn trong cấu hình.",
        ))),
    }
}

/// What every page about a report shows besides its own fields: the
/// report, who asks for it and whom to contact.
#[derive(Serialize)]
struct About<'a, V: Serialize> {
    report: &'a Report,
    contact: &'a Contact,
    #[serde(flatten)]
    view: V,
}

/// A page about `report`.
fn report_page(
    status: StatusCode,
    name: &str,
    title: &str,
    report: &Report,
    view: impl Serialize,
) -> Response {
    let about = About {
        report,
        contact: &report.contact,
        view,
    };
    page(status, name, title, report.agency.as_deref(), &about)
}

/// What is recorded: the day the report was sent and its number, or a
/// different submission already in effect (`existing`).
#[derive(Serialize)]
struct RecordedView<'a> {
    on: String,
    reference: &'a str,
    existing: bool,
    /// The files sent and the form to send more (not when a different
    /// submission is in effect).
    files: Option<ConfirmFiles>,
}

/// The files of the report and the form that sends more, on the page
/// that says the report is recorded.
#[derive(Debug, Serialize)]
struct ConfirmFiles {
    hidden: Vec<Hidden>,
    items: Vec<ConfirmFile>,
    max_mb: u64,
    max_count: usize,
    /// What the last upload did (a flash), and whether it went well.
    note: Option<String>,
    ok: bool,
}

#[derive(Debug, Serialize)]
struct ConfirmFile {
    name: String,
    size: String,
}

/// The files of `key` and the upload form carrying the link `q`.
async fn confirm_files(
    state: &AppState,
    q: &LinkQuery,
    key: &Key,
    note: Option<(bool, String)>,
) -> Result<ConfirmFiles, Response> {
    let kept = state
        .shared
        .store
        .files_for(key)
        .await
        .map_err(store_failed)?;
    let limits = state.live().cfg.daemon.files;
    let (ok, note) = match note {
        Some((ok, text)) => (ok, Some(text)),
        None => (true, None),
    };
    Ok(ConfirmFiles {
        hidden: link_fields(q),
        items: kept
            .iter()
            .map(|f| ConfirmFile {
                name: f.name.clone(),
                size: crate::files::size_text(f.size),
            })
            .collect(),
        max_mb: limits.max_bytes / (1024 * 1024),
        max_count: limits.max_count,
        note,
        ok,
    })
}

fn recorded_page(
    status: StatusCode,
    title: &str,
    report: &Report,
    on: Option<Date>,
    reference: Option<&str>,
    existing: bool,
    files: Option<ConfirmFiles>,
) -> Response {
    let view = RecordedView {
        on: on
            .map(|d| format!("{} ({})", date_field::in_words(d), format_date(d)))
            .unwrap_or_default(),
        reference: reference.unwrap_or("(không ghi)"),
        existing,
        files,
    };
    report_page(status, "confirm/recorded.html", title, report, view)
}

#[derive(Serialize)]
struct FormView<'a> {
    error: Option<String>,
    hidden: Vec<Hidden>,
    max_reference: usize,
    reference: &'a str,
    received_on: &'a str,
}

/// The link's fields, carried through the forms.
fn link_fields(q: &LinkQuery) -> Vec<Hidden> {
    vec![
        Hidden::new("o", &q.o),
        Hidden::new("p", &q.p),
        Hidden::new("u", &q.u),
        Hidden::new("e", q.e.to_string()),
        Hidden::new("s", &q.s),
    ]
}

/// The form (422 with `error` when what was typed broke a rule).
fn form_page(
    q: &LinkQuery,
    report: &Report,
    error: Option<String>,
    reference: &str,
    received_on: &str,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = FormView {
        hidden: link_fields(q),
        error,
        max_reference: input::MAX_REFERENCE,
        reference,
        received_on,
    };
    let title = "Xác nhận đã gửi báo cáo";
    report_page(status, "confirm/form.html", title, report, view)
}

/// The echo of the day typed, before anything is recorded (200).
fn check_page(q: &LinkQuery, report: &Report, day: Date, reference: Option<&str>) -> Response {
    #[derive(Serialize)]
    struct CheckView {
        check: Check,
    }
    let mut check = Check::new("/confirm", "Xác nhận đã gửi báo cáo vào ngày", day);
    check.hidden = link_fields(q);
    check
        .hidden
        .push(Hidden::new("reference", reference.unwrap_or("")));
    check
        .hidden
        .push(Hidden::new("received_on", date_field::shown(day)));
    check.detail("Số văn bản", reference);
    let title = "Kiểm tra trước khi xác nhận";
    report_page(
        StatusCode::OK,
        "confirm/check.html",
        title,
        report,
        CheckView { check },
    )
}

/// `GET /confirm`: the form, or what is already recorded.
async fn show(
    State(state): State<AppState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return bad_link();
    };
    let report = match open(&state, &q) {
        Ok(r) => r,
        Err(page) => return *page,
    };
    match state.shared.store.current_for(&report.key).await {
        Ok(c) => {
            if let Some(sub) = c.submission {
                let files = match confirm_files(&state, &q, &report.key, None).await {
                    Ok(f) => f,
                    Err(page) => return page,
                };
                return recorded_page(
                    StatusCode::OK,
                    "Báo cáo đã được ghi nhận",
                    &report,
                    Some(sub.received_on),
                    sub.reference.as_deref(),
                    false,
                    Some(files),
                );
            }
        }
        Err(e) => return store_failed(e),
    }
    let today = state.live().today(Timestamp::now());
    form_page(&q, &report, None, "", &date_field::shown(today))
}

fn store_failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "confirmation link: database error");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Chưa ghi nhận được",
        "Máy chủ tạm thời không ghi được. Hãy thử lại sau ít phút.",
    )
}

/// How the confirmation form names its fields.
fn label(f: Field) -> &'static str {
    match f {
        Field::ReceivedOn => "Ngày gửi báo cáo",
        Field::Reference => "Số văn bản",
        Field::Note => "Ghi chú",
        Field::Until => "Hạn mới",
        Field::Reason => "Lý do",
        Field::By => "Người ghi",
    }
}

/// `POST /confirm`: echoes the day, then (`step=record`) records the
/// submission.
async fn submit(
    State(state): State<AppState>,
    form_data: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form_data else {
        return bad_link();
    };
    let link = f.link();
    let report = match open(&state, &link) {
        Ok(r) => r,
        Err(page) => return *page,
    };
    if f.step == Step::Edit {
        return form_page(&link, &report, None, &f.reference, &f.received_on);
    }
    let now = Timestamp::now();
    let today = state.live().today(now);
    let invalid =
        |text: String| form_page(&link, &report, Some(text), &f.reference, &f.received_on);
    let received_on = match date_field::read(label(Field::ReceivedOn), &f.received_on) {
        Ok(day) => day,
        Err(e) => return invalid(e),
    };
    let typed = input::Submission {
        received_on,
        reference: Some(&f.reference),
        note: None,
    };
    let reference = match input::submission(typed, report.opens, today) {
        Ok(c) => c.reference,
        Err(problems) => return invalid(html::problems_text(&problems, label)),
    };
    if f.step == Step::Check {
        return check_page(&link, &report, received_on, reference.as_deref());
    }
    let new = NewSubmission {
        key: report.key.clone(),
        received_on,
        received_at: None,
        reference: reference.clone(),
        note: None,
        actor: format!("link:{}", report.key.unit),
        source: Source::Link,
        correction: false,
    };
    let result = state.shared.store.record_submission(new, now).await;
    let files = match &result {
        Ok(_) => match confirm_files(&state, &link, &report.key, None).await {
            Ok(f) => Some(f),
            Err(page) => return page,
        },
        Err(_) => None,
    };
    match result {
        Ok(Recorded::New(e)) => {
            tracing::info!(key = %e.key, source = "link", "submission confirmed by link");
            recorded_page(
                StatusCode::CREATED,
                "Đã ghi nhận báo cáo",
                &report,
                Some(received_on),
                reference.as_deref(),
                false,
                files,
            )
        }
        Ok(Recorded::AlreadyRecorded(e)) => recorded_page(
            StatusCode::OK,
            "Báo cáo đã được ghi nhận",
            &report,
            Some(e.received_on.unwrap_or(received_on)),
            e.reference.as_deref(),
            false,
            files,
        ),
        Err(StoreError::Conflict { existing, .. }) => recorded_page(
            StatusCode::CONFLICT,
            "Báo cáo đã được ghi nhận trước đó",
            &report,
            existing.received_on,
            existing.reference.as_deref(),
            true,
            None,
        ),
        Err(e) => store_failed(e),
    }
}

/// `POST /confirm/files`: the files of a confirmed report, sent from the
/// page that says it is recorded (multipart: the link's fields first,
/// checked before a byte of a file is kept). They join the submission in
/// effect; without one (nothing confirmed yet) nothing is recorded (409).
async fn upload_files(
    State(state): State<AppState>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(multipart) = multipart else {
        return bad_link();
    };
    let live = state.live();
    let limits = live.cfg.daemon.files;
    let blobs = crate::files::Blobs::under(&live.cfg.daemon.state_dir);
    let got = super::upload::read(multipart, &blobs, &limits, |fields| {
        let q = LinkQuery {
            o: fields.get("o").to_string(),
            p: fields.get("p").to_string(),
            u: fields.get("u").to_string(),
            e: fields.get("e").parse().map_err(|_| Box::new(bad_link()))?,
            s: fields.get("s").to_string(),
        };
        let report = open(&state, &q)?;
        Ok::<_, Box<Response>>((q, report))
    })
    .await;
    let (q, report, files) = match got {
        Ok(g) => (g.gated.0, g.gated.1, g.files),
        Err(super::upload::UploadError::Gate(page)) => return *page,
        Err(e) => {
            let Some((status, text)) = e.refusal() else {
                if let super::upload::UploadError::Files(e) = &e {
                    tracing::error!(error = %e, "cannot keep a file sent by a unit");
                }
                return message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Chưa lưu được tệp",
                    "Máy chủ chưa lưu được tệp; xin thử lại sau ít phút.",
                );
            };
            return refused_upload(status, &text);
        }
    };
    let current = match state.shared.store.current_for(&report.key).await {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let Some(sub) = current.submission else {
        return message(
            StatusCode::CONFLICT,
            "Chưa xác nhận đã gửi báo cáo",
            "Hãy xác nhận đã gửi báo cáo trước (mở lại liên kết trong thư nhắc), rồi gửi kèm tệp.",
        );
    };
    let note = if files.is_empty() {
        (false, "Chưa chọn tệp nào để gửi kèm.".to_string())
    } else {
        let actor = format!("link:{}", report.key.unit);
        let now = Timestamp::now();
        let rows = files
            .into_iter()
            .map(|r| {
                r.into_new_file(
                    &report.key,
                    crate::store::FileSource::Upload,
                    &actor,
                    now,
                    Some(sub.stamp.event_id),
                )
            })
            .collect();
        match state.shared.store.add_files(rows).await {
            Ok(stored) => {
                tracing::info!(key = %report.key, source = "link", files = stored.len(), "files sent by link");
                (true, format!("Đã nhận {} tệp.", stored.len()))
            }
            Err(e) => return store_failed(e),
        }
    };
    let ok = note.0;
    let files = match confirm_files(&state, &q, &report.key, Some(note)).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    recorded_page(
        if ok {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        "Báo cáo đã được ghi nhận",
        &report,
        Some(sub.received_on),
        sub.reference.as_deref(),
        false,
        Some(files),
    )
}

/// A file refused (too large, too many, a broken body): a page that says
/// why and that nothing was kept.
fn refused_upload(status: StatusCode, text: &str) -> Response {
    message(
        status,
        "Chưa nhận tệp",
        &format!("{text} Hãy quay lại trang trước và gửi lại tệp nhỏ hơn hoặc ít tệp hơn."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_of_mailboxes() {
        for (mailbox, name) in [
            (
                "Sở LĐ-TB&XH Quảng Ngãi <baocao@soldtbxh.quangngai.example>",
                Some("Sở LĐ-TB&XH Quảng Ngãi"),
            ),
            (
                "\"Sở Y tế, Quảng Ngãi\" <a@b.example>",
                Some("Sở Y tế, Quảng Ngãi"),
            ),
            ("<a@b.example>", None),
            ("\"\" <a@b.example>", None),
            ("a@b.example", None),
        ] {
            assert_eq!(display_name(mailbox).as_deref(), name, "{mailbox}");
        }
    }

    #[test]
    fn the_agency_is_the_senders_name_else_the_reply_tos() {
        let text = "[mail]\nfrom = \"baocao@x.example\"\nreply_to = \"Phòng Trẻ em <treem@x.example>\"\n\
                    [[unit]]\nid = \"a\"\nname = \"A\"\nemail = \"a@x.example\"\n\
                    [[obligation]]\nid = \"o\"\ntitle = \"O\"\nreporters = [\"a\"]\nrecipient = \"a\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n";
        let cfg = crate::config::load_str("a.toml", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let ob = &cfg.obligations[0];
        assert_eq!(agency_name(&cfg, ob).as_deref(), Some("Phòng Trẻ em"));
        let c = agency_contact(&cfg, ob);
        assert_eq!(
            (c.name.as_deref(), c.email.as_deref()),
            (Some("Phòng Trẻ em"), Some("treem@x.example"))
        );
        let mut named = cfg.clone();
        named.mail.from = "Sở X <baocao@x.example>".into();
        assert_eq!(agency_name(&named, ob).as_deref(), Some("Sở X"));
        named.mail.reply_to = None;
        let c = agency_contact(&named, ob);
        assert_eq!(
            (c.name.as_deref(), c.email.as_deref()),
            (Some("Sở X"), Some("baocao@x.example"))
        );
    }

    /// With a `[[directive]]`, its sender's unit and its contact speak on
    /// the pages, as in the notices, whatever `[mail]` says.
    #[test]
    fn the_directives_sender_and_contact_come_first() {
        let text = "[mail]\nfrom = \"Hộp thư chung <baocao@x.example>\"\n\
                    [[unit]]\nid = \"so\"\nname = \"Sở Lao động - Thương binh và Xã hội\"\nemail = \"so@x.example\"\n\
                    [[unit]]\nid = \"a\"\nname = \"A\"\nemail = \"a@x.example\"\n\
                    [[directive]]\nid = \"cv\"\nkind = \"Công văn\"\nnumber = \"1/UBND\"\ndate = \"01/02/2020\"\n\
                    issuer = \"UBND tỉnh\"\nabout = \"việc báo cáo\"\n\
                    sender = { agency = \"so\", office = \"Phòng Trẻ em\" }\n\
                    contact = { name = \"Bà Hoa\", title = \"Chuyên viên\", phone = \"0255 3822 123\" }\n\
                    submission = { to = \"Sở (Phòng Trẻ em)\", how = \"văn bản điện tử\" }\n\
                    [[obligation]]\nid = \"o\"\ntitle = \"O\"\nreporters = [\"a\"]\nrecipient = \"so\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n";
        let cfg = crate::config::load_str("a.toml", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let ob = &cfg.obligations[0];
        assert_eq!(
            agency_name(&cfg, ob).as_deref(),
            Some("Sở Lao động - Thương binh và Xã hội")
        );
        let c = agency_contact(&cfg, ob);
        assert_eq!(
            (
                c.name.as_deref(),
                c.title.as_deref(),
                c.phone.as_deref(),
                c.email.as_deref()
            ),
            (
                Some("Bà Hoa"),
                Some("Chuyên viên"),
                Some("0255 3822 123"),
                None
            )
        );
    }
}
