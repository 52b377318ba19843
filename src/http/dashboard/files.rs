//! The files of the reports, for the coordinator: `POST
//! /dashboard/units/{unit}/{obligation}/{period}/files` adds files to a
//! report from its page (multipart; the CSRF token is the form's first
//! field and is checked before a byte of a file is kept), `GET
//! /dashboard/files/{id}` downloads one, and `GET
//! /dashboard/files/{obligation}/{period}/all.zip` all the files of one
//! report-period, one folder per unit named by the unit's name.
//!
//! Downloads are always attachments of type `application/octet-stream`,
//! with a safe name (`files::content_disposition`), whatever the sender
//! declared: a file is never shown inline, so an HTML file cannot run in
//! the dashboard's origin. The .zip is written to a temporary file on a
//! blocking thread and streamed from there (memory stays bounded). Must
//! not: record a submission (files join the one in effect), unpack an
//! archive, or serve a path built from a name.

use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;

use crate::files::{self, Blobs};
use crate::store::{FileSource, Files, Records};

use super::super::AppState;
use super::super::upload::{self, UploadError};
use super::extract::Owed;
use super::page::{bad_csrf, error_page, store_failed};
use super::report::{self, Typed};
use super::session::Admin;
use super::view::key_href;

pub fn routes(upload_limit: DefaultBodyLimit) -> Router<AppState> {
    Router::new()
        .route(
            "/dashboard/units/{unit}/{obligation}/{period}/files",
            post(upload).layer(upload_limit),
        )
        .route("/dashboard/files/{id}", get(download))
        .route("/dashboard/files/{obligation}/{period}/all.zip", get(zip))
}

/// `POST .../files`: keeps the files sent, linked to the receipt in
/// effect, then back to the report's page with a message (413 and the
/// page with the reason when a file is refused; nothing kept).
async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    Owed { key, .. }: Owed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(multipart) = multipart else {
        return super::page::bad_form();
    };
    let live = state.live();
    let limits = live.cfg.daemon.files;
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let got = upload::read(multipart, &blobs, &limits, |fields| {
        if admin.csrf_ok(fields.get("csrf")) {
            Ok(())
        } else {
            Err(())
        }
    })
    .await;
    let got = match got {
        Ok(g) => g,
        Err(UploadError::Gate(())) => return bad_csrf(),
        Err(e) => {
            let Some((status, text)) = e.refusal() else {
                if let UploadError::Files(e) = &e {
                    tracing::error!(error = %e, "cannot keep a file sent on the dashboard");
                }
                return store_failed("không lưu được tệp");
            };
            admin.flash(&state, false, text);
            return report::show(&state, &admin, &key, status, Typed::Nothing).await;
        }
    };
    if got.files.is_empty() {
        admin.flash(&state, false, "Chưa chọn tệp nào để gửi kèm.");
        return report::show(
            &state,
            &admin,
            &key,
            StatusCode::UNPROCESSABLE_ENTITY,
            Typed::Nothing,
        )
        .await;
    }
    let event_id = match state.shared.store.current_for(&key).await {
        Ok(c) => c.submission.map(|s| s.stamp.event_id),
        Err(e) => return store_failed(e),
    };
    let now = Timestamp::now();
    let actor = admin.actor();
    let rows = got
        .files
        .into_iter()
        .map(|r| r.into_new_file(&key, FileSource::Dashboard, &actor, now, event_id))
        .collect();
    match state.shared.store.add_files(rows).await {
        Ok(stored) => {
            tracing::info!(actor = %actor, source = "web", key = %key, files = stored.len(), "tệp gửi kèm trên trang quản lý");
            admin.flash(&state, true, format!("Đã lưu {} tệp.", stored.len()));
            Redirect::to(&key_href(&key.unit, &key.obligation, &key.period)).into_response()
        }
        Err(e) => store_failed(e),
    }
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Không tìm thấy tệp",
        "Không có tệp này.",
    )
}

/// `GET /dashboard/files/{id}`: the bytes, as an attachment.
async fn download(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let f = match state.shared.store.file(id).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(),
        Err(e) => return store_failed(e),
    };
    let blobs = Blobs::under(&state.live().cfg.daemon.state_dir);
    let file = match blobs.open(&f.sha256).await {
        Ok(file) => file,
        Err(e) => {
            tracing::error!(error = %e, id, "a recorded file is missing from the state directory");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Thiếu tệp",
                "Tệp này có trong cơ sở dữ liệu nhưng không còn trong thư mục trạng thái; xem nhật ký của hanbao.",
            );
        }
    };
    attachment(file, &f.name, Some(f.size))
}

/// A response that downloads `file` as `name`.
fn attachment(file: tokio::fs::File, name: &str, size: Option<u64>) -> Response {
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&files::content_disposition(name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(size) = size {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    resp
}

/// `GET /dashboard/files/{obligation}/{period}/all.zip`.
async fn zip(
    State(state): State<AppState>,
    _admin: Admin,
    Path((obligation, period)): Path<(String, String)>,
) -> Response {
    let live = state.live();
    let Some(ob) = live.cfg.obligation(&obligation) else {
        return not_found();
    };
    let files = match state.shared.store.files_of_period(&ob.id, &period).await {
        Ok(f) => f,
        Err(e) => return store_failed(e),
    };
    let names: std::collections::HashMap<String, String> = live
        .cfg
        .units
        .iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let zip_name = format!("{}-{}.zip", ob.id, period);
    let written = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let tmp = blobs.root().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let random = crate::primitives::random_hex(16).map_err(|e| e.to_string())?;
        let path = tmp.join(format!("{random}.zip"));
        let out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        // Unlinked at once: the open file is all that remains, gone when
        // the download ends (or fails).
        let _ = std::fs::remove_file(&path);
        let folder = |unit: &str| names.get(unit).cloned().unwrap_or_else(|| unit.to_string());
        let mut out = files::write_zip(&blobs, &files, folder, out).map_err(|e| e.to_string())?;
        use std::io::Seek as _;
        out.rewind().map_err(|e| e.to_string())?;
        Ok(out)
    })
    .await;
    match written {
        Ok(Ok(file)) => {
            let size = file.metadata().ok().map(|m| m.len());
            attachment(tokio::fs::File::from_std(file), &zip_name, size)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, obligation, period, "cannot write the .zip of a report-period");
            store_failed("không tạo được tệp .zip")
        }
        Err(e) => {
            tracing::error!(error = %e, "the .zip task failed");
            store_failed("không tạo được tệp .zip")
        }
    }
}
