//! `/api/v1/files/{obligation}/{period}/{unit}`: the files of one report
//! through the API. `POST` (multipart/form-data, one part per file, any
//! field name) keeps the files, linked to the submission in effect if
//! there is one (it records no submission: `POST /api/v1/submissions`
//! does); `GET` lists them.
//!
//! Checked like every API write: the token first (401), the ids (404), a
//! unit token only for its own unit (403), the report owed (422), all
//! before a byte of a file is read; then the limits of `[daemon]` while
//! the files arrive (413 `file_too_large`, `too_many_files`, `too_large`
//! for a body over the route's limit), nothing kept when one fails.
//! Recorded with the token as sender and source "api". Must not: record
//! a submission, unpack an archive, or serve a file's bytes.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::PathRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use crate::files::{Blobs, FilesError};
use crate::store::{FileSource, Files, Records, StoredFile};

use super::AppState;
use super::api::owed_key;
use super::auth::Caller;
use super::error::ApiError;
use super::upload::{self, UploadError};

type KeyPath = Result<Path<(String, String, String)>, PathRejection>;

fn key_path(path: KeyPath) -> Result<(String, String, String), ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::not_found("đường dẫn không chỉ đến một báo cáo"))
}

pub(super) fn file_json(f: &StoredFile) -> serde_json::Value {
    json!({
        "id": f.id,
        "obligation": f.key.obligation,
        "period": f.key.period,
        "unit": f.key.unit,
        "name": f.name,
        "media_type": f.media_type,
        "size": f.size,
        "sha256": f.sha256,
        "source": f.source.as_str(),
        "sender": f.sender,
        "received_at": f.received_at.to_string(),
        "event_id": f.event_id,
    })
}

/// `GET /api/v1/files/{obligation}/{period}/{unit}`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    path: KeyPath,
) -> Result<Response, ApiError> {
    let (o, p, u) = key_path(path)?;
    let key = owed_key(&state, &caller, &o, &p, &u)?.key;
    let files = state.shared.store.files_for(&key).await?;
    let files: Vec<_> = files.iter().map(file_json).collect();
    Ok(Json(json!({ "files": files })).into_response())
}

/// `POST /api/v1/files/{obligation}/{period}/{unit}`.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    path: KeyPath,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let (o, p, u) = key_path(path)?;
    let key = owed_key(&state, &caller, &o, &p, &u)?.key;
    let Ok(multipart) = multipart else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "hãy gửi tệp dạng multipart/form-data, mỗi tệp một phần",
        ));
    };
    let live = state.live();
    let limits = live.cfg.daemon.files;
    let blobs = Blobs::under(&live.cfg.daemon.state_dir);
    let got = upload::read(multipart, &blobs, &limits, |_| Ok::<(), ApiError>(())).await;
    let got = match got {
        Ok(g) => g,
        Err(e) => return Err(upload_error(e)),
    };
    if got.files.is_empty() {
        return Err(ApiError::unprocessable(
            "không có tệp nào: gửi mỗi tệp một phần có tên tệp (filename)",
        ));
    }
    let now = Timestamp::now();
    let event_id = state
        .shared
        .store
        .current_for(&key)
        .await?
        .submission
        .map(|s| s.stamp.event_id);
    let actor = caller.actor();
    let rows = got
        .files
        .into_iter()
        .map(|r| r.into_new_file(&key, FileSource::Api, &actor, now, event_id))
        .collect();
    let stored = state.shared.store.add_files(rows).await?;
    tracing::info!(actor = %actor, source = "api", key = %key, files = stored.len(), "tệp gửi qua API");
    let files: Vec<_> = stored.iter().map(file_json).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({"result": "stored", "files": files})),
    )
        .into_response())
}

/// An upload refused or failed, in the API's error shape.
fn upload_error(e: UploadError<ApiError>) -> ApiError {
    if let UploadError::Gate(e) = e {
        return e;
    }
    let code = match &e {
        UploadError::Files(FilesError::TooLarge { .. }) => "file_too_large",
        UploadError::Files(FilesError::TooMany { .. }) => "too_many_files",
        UploadError::Body { status, .. } if *status == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        _ => "bad_request",
    };
    match e.refusal() {
        Some((status, text)) => ApiError::new(status, code, text),
        None => {
            if let UploadError::Files(e) = &e {
                tracing::error!(error = %e, "cannot keep a file sent to the API");
            }
            ApiError::internal()
        }
    }
}
