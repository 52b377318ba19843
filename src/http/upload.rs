//! Files sent to the web face (`multipart/form-data`): the one reader the
//! confirmation page, the dashboard's report page and the API share, and
//! the body limit of their routes.
//!
//! A form's text fields (the link's signature, the CSRF token) must come
//! before its files, as browsers send them in the order of the form: the
//! route's `gate` sees them before the first file part is read and can
//! refuse the request before a byte of a file is written. Every file is
//! then staged in `files/tmp/` (`files::Blobs::stage`) and counted against
//! the limits while it arrives; only when the whole request has been read
//! and every file is within the limits are they given their final names.
//! So a refused request (a file too large, too many files, a broken body)
//! leaves nothing behind. Must not: write rows (the handlers do, once the
//! files are in place) or trust a name or a type as sent.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;

use crate::config::model::FileLimits;
use crate::files::{self, Blobs, FilesError, Received, Staging};

/// The request body accepted by an upload route: every file at its
/// largest, plus 1 MiB for the form's other fields and the multipart framing.
pub fn body_limit(limits: &FileLimits) -> usize {
    let files = limits.max_bytes.saturating_mul(limits.max_count as u64);
    usize::try_from(files.saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
}

/// The longest text field read (a signature, a token, a note).
const MAX_TEXT_FIELD: usize = 4096;
/// The most text fields read.
const MAX_TEXT_FIELDS: usize = 32;

/// Why an upload was refused.
#[derive(Debug)]
pub enum UploadError<R> {
    /// The route's gate said no (its own response).
    Gate(R),
    /// A file too large, too many files, or the disk failed.
    Files(FilesError),
    /// Not a multipart body, broken, or larger than the route accepts.
    Body { status: StatusCode, text: String },
}

impl<R> From<FilesError> for UploadError<R> {
    fn from(e: FilesError) -> Self {
        UploadError::Files(e)
    }
}

impl<R> UploadError<R> {
    /// What to tell the sender, in Vietnamese, and the status; `None`
    /// for the gate's own refusal and for a failure of the server.
    pub fn refusal(&self) -> Option<(StatusCode, String)> {
        match self {
            UploadError::Files(e) if e.is_refusal() => {
                Some((StatusCode::PAYLOAD_TOO_LARGE, format!("{e}.")))
            }
            UploadError::Body { status, text } => Some((*status, text.clone())),
            _ => None,
        }
    }
}

fn body_error<R>(e: &MultipartError) -> UploadError<R> {
    let status = e.status();
    let text = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "Nội dung gửi lên lớn hơn mức cho phép (dung lượng mỗi tệp × số tệp); không lưu gì."
            .to_string()
    } else {
        "Không đọc được nội dung gửi lên (biểu mẫu có tệp đính kèm bị hỏng hoặc bị ngắt); \
         không lưu gì."
            .to_string()
    };
    UploadError::Body { status, text }
}

/// The text fields of a form, in the order sent.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// What an upload brought: the gate's answer (made from the text fields)
/// and the files, kept under their final names.
#[derive(Debug)]
pub struct Upload<T> {
    pub gated: T,
    pub files: Vec<Received>,
}

/// Reads `multipart`: text fields until the first file part, then
/// `gate(&fields)` (called once, also when no file comes), then every
/// file within `limits`. A file part with an empty name and no content
/// (a file input left empty) is skipped.
pub async fn read<T, R>(
    mut multipart: Multipart,
    blobs: &Blobs,
    limits: &FileLimits,
    gate: impl FnOnce(&Fields) -> Result<T, R>,
) -> Result<Upload<T>, UploadError<R>> {
    let mut fields = Fields::default();
    let mut gate = Gate::Waiting(gate);
    let mut staged: Vec<(Staging, Option<String>, Option<String>)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(body_error(&e)),
        };
        let name = field.name().unwrap_or("").to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            if matches!(gate, Gate::Passed(_)) {
                // Text after the files: ignored (the gate has decided).
                continue;
            }
            if fields.0.len() >= MAX_TEXT_FIELDS {
                return Err(UploadError::Body {
                    status: StatusCode::BAD_REQUEST,
                    text: "Biểu mẫu có quá nhiều trường.".into(),
                });
            }
            let text = read_text(field).await?;
            fields.0.push((name, text));
            continue;
        };
        gate = gate.pass(&fields)?;
        let content_type = field.content_type().map(str::to_string);
        let mut field = field;
        // The first bytes, if any (a reader may hand over empty chunks).
        let first = loop {
            match field.chunk().await {
                Ok(Some(chunk)) if chunk.is_empty() => continue,
                Ok(first) => break first,
                Err(e) => return Err(body_error(&e)),
            }
        };
        if file_name.is_empty() && first.is_none() {
            // A form's file field left empty: browsers send it as a part
            // with no name and no bytes. Nothing is staged, nothing touches
            // the disk.
            continue;
        }
        let shown = files::sanitize_name(&file_name);
        let mut staging = blobs.stage(&shown, limits).await?;
        let mut next = first;
        while let Some(chunk) = next {
            staging.write(&chunk).await?;
            next = match field.chunk().await {
                Ok(chunk) => chunk,
                Err(e) => return Err(body_error(&e)),
            };
        }
        staged.push((staging, Some(file_name), content_type));
        files::check_count(staged.len(), limits)?;
    }
    let Gate::Passed(gated) = gate.pass(&fields)? else {
        return Err(UploadError::Body {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            text: "the gate did not answer".into(),
        });
    };
    let mut files = Vec::with_capacity(staged.len());
    for (staging, name, content_type) in staged {
        let blob = staging.finish().await?;
        files.push(Received::new(
            blob,
            name.as_deref(),
            content_type.as_deref(),
        ));
    }
    Ok(Upload { gated, files })
}

/// The gate of a form: waiting for the text fields, or passed with its answer.
enum Gate<F, T> {
    Waiting(F),
    Passed(T),
}

impl<F, T> Gate<F, T> {
    /// Asks the gate when it has not answered yet.
    fn pass<R>(self, fields: &Fields) -> Result<Gate<F, T>, UploadError<R>>
    where
        F: FnOnce(&Fields) -> Result<T, R>,
    {
        match self {
            Gate::Waiting(g) => Ok(Gate::Passed(g(fields).map_err(UploadError::Gate)?)),
            passed => Ok(passed),
        }
    }
}

/// A text field, at most [`MAX_TEXT_FIELD`] bytes of UTF-8.
async fn read_text<R>(
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<String, UploadError<R>> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_TEXT_FIELD {
                    return Err(UploadError::Body {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        text: "Một trường của biểu mẫu dài quá mức cho phép.".into(),
                    });
                }
            }
            Ok(None) => break,
            Err(e) => return Err(body_error(&e)),
        }
    }
    String::from_utf8(bytes).map_err(|_| UploadError::Body {
        status: StatusCode::BAD_REQUEST,
        text: "Biểu mẫu có trường không phải văn bản UTF-8.".into(),
    })
}
